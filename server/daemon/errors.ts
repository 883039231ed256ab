/**
 * KeystoreError → JSON-RPC error: the stable code from shared/protocol.ts, the CLI's message in the
 * client's language, and `data` = { code, details }. Anything that is not a KeystoreError becomes
 * 'internal' with a generic message: its text may quote a DSN or a value, so it goes only to the
 * (redacted) log.
 */
import { ErrorCodes, ResponseError } from 'vscode-languageserver/node';
import { KeystoreError, type ErrorCode as CoreErrorCode, type Lang, type Localized } from '../core/errors';
import { KeystoreErrorCodes, type ErrorCode, type ErrorData } from '../../shared/protocol';
import { maskDsn } from '../store/dsn';
import { log } from './log';

// The wire list and the core list must stay the same list.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const sameCodes: Same<ErrorCode, CoreErrorCode> = true;
void sameCodes;

/** Params of another type than the request's Params declare (see params.ts): JSON-RPC's InvalidParams, with a usage error's data. */
export class InvalidParamsError extends KeystoreError {
  constructor(text: Localized, details: { field: string }) {
    super('usage', text, details);
  }
}

export function toResponseError(err: unknown, lang: Lang, method: string): ResponseError<ErrorData> {
  if (err instanceof ResponseError) return err as ResponseError<ErrorData>;
  if (err instanceof KeystoreError) {
    log.debug(`${method}: ${err.code}`);
    const code = err instanceof InvalidParamsError ? ErrorCodes.InvalidParams : KeystoreErrorCodes[err.code];
    return new ResponseError(code, maskDsn(err.localized(lang)), { code: err.code, details: err.details });
  }
  const error = err instanceof Error ? err : new Error(String(err));
  log.error(`${method}: unexpected ${error.name}: ${error.message}\n${error.stack ?? ''}`);
  return new ResponseError(
    KeystoreErrorCodes.internal,
    lang === 'zh-CN' ? `内部错误（${error.name}），详情见守护进程日志` : `internal error (${error.name}); the daemon log has details`,
    { code: 'internal' },
  );
}

/** What every request that would run a process or open a connection answers in an untrusted workspace. */
export function untrustedError(): KeystoreError {
  return new KeystoreError('untrusted', {
    en: 'The workspace is not trusted: in Restricted Mode GPT-Load Keystore only checks .env files — it runs no git and opens no database, Redis or GPT-Load connection. Trust the workspace to use this.',
    zh: '工作区不受信任：在受限模式下，GPT-Load Keystore 只检查 .env 文件——不运行 git，也不连接数据库、Redis 或 GPT-Load。请信任此工作区后再使用此功能。',
  });
}

/** LSP's answer to a request that comes before `initialize`. */
export function notInitializedError(): ResponseError<void> {
  return new ResponseError(ErrorCodes.ServerNotInitialized, 'the daemon is not initialized: send initialize first (请先发送 initialize)');
}
