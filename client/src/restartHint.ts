/**
 * How the operator restarts GPT-Load after its `.env` changed, guessed from what lies beside the
 * `.env`: Docker Compose (the container must be recreated to read a changed env_file), a source
 * checkout run with Make, or the release binary.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type DeploymentKind = 'compose' | 'source' | 'binary';

const COMPOSE_FILES = ['docker-compose.yml', 'docker-compose.yaml', 'compose.yml', 'compose.yaml'];

export function deploymentKind(envFile: string): DeploymentKind {
  const dir = dirname(envFile);
  if (COMPOSE_FILES.some((f) => existsSync(join(dir, f)))) return 'compose';
  if (existsSync(join(dir, 'Makefile')) && existsSync(join(dir, 'go.mod'))) return 'source';
  return 'binary';
}

export function restartCommand(envFile: string): string {
  switch (deploymentKind(envFile)) {
    case 'compose':
      return 'docker compose up -d --force-recreate';
    case 'source':
      return 'make run';
    case 'binary':
      return './gpt-load';
  }
}
