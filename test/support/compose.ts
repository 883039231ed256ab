/**
 * GPT-Load's service as its docs' docker-compose.yml has it: the container gets `.env` through
 * env_file, `./data` as /app/data, the port from `${PORT:-3001}`. Indented for a `services:` map.
 */
export const STOCK_GPT_LOAD_SERVICE = `  gpt-load:
    image: ghcr.io/tbphp/gpt-load:latest
    ports:
      - "\${PORT:-3001}:\${PORT:-3001}"
    env_file:
      - .env
    volumes:
      - ./data:/app/data
`;
