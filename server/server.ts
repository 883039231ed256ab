/**
 * The GPT-Load Keystore daemon (dist/server.js): LSP features for `.env` and compose files plus the
 * keystore requests of shared/protocol.ts, over stdio (`--stdio`) or node IPC (`--node-ipc`).
 * The stdout guard is imported first, before any driver can print: stdout is protocol traffic only.
 */
import './daemon/stdio';
import { startDaemon } from './daemon/main';

startDaemon(process.argv.slice(2));
