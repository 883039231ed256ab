/**
 * PENDING PROTOCOL — requests the client needs that shared/protocol.ts does not have yet. Each is
 * used defensively: when the daemon answers MethodNotFound the command explains the manual way.
 * Move each into shared/protocol.ts (and delete it here) once the daemon implements it.
 */
import type { RequestType } from 'vscode-languageserver-protocol';
import type { DeploymentRef } from '../../shared/protocol';
import { protocol } from './protocol';

/**
 * client → daemon: removes one value from GPT-Load's stored proxy keys — `system_settings.proxy_keys`
 * and every `groups.proxy_keys` (comma-separated lists). Used after rotating AUTH_KEY, which GPT-Load
 * copied into the global proxy keys on first start.
 */
export namespace RemoveProxyKeyRequest {
  export const method = 'gptLoad/proxyKeys/remove' as const;
  export interface Params {
    deployment: DeploymentRef;
    /** The proxy key to remove (a secret: never logged). */
    value: string;
  }
  export interface Result {
    /** Removed from system_settings.proxy_keys. */
    system: boolean;
    /** Names of the groups it was removed from. */
    groups: string[];
  }
  export async function type(): Promise<RequestType<Params, Result, void>> {
    const { RequestType } = await protocol();
    return new RequestType<Params, Result, void>(method);
  }
}
