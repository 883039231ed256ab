/**
 * Keystore requests: each one checks its params, resolves the deployment and calls one operation of
 * server/keystore (or the core) — no logic of its own beyond shaping the wire result.
 */
import { DecryptError, type KeyCodec } from '../core/crypto';
import { assessSecret, generateSecret, weakNewKeyWarnings } from '../core/secrets';
import { encryptionKeySource } from '../keystore/deployment';
import { groupNamesById, listKeyPage, revealKey } from '../keystore/keys';
import { restartHint } from '../keystore/migrate/env';
import { checkService, describeService } from '../keystore/service';
import { readGroups, readStatus, readStatusSummary } from '../keystore/status';
import {
  DecryptRequest,
  EncryptRequest,
  GenerateSecretRequest,
  GroupsRequest,
  HashRequest,
  KeysRequest,
  RevealKeyRequest,
  RestartAdviceRequest,
  SecretAssessRequest,
  ServiceCheckRequest,
  StatusRequest,
  StatusSummaryRequest,
  type KeyStatus,
  type ValuesParams,
  type ValuesResult,
} from '../../shared/protocol';
import { cachedCodec, freshCodec } from './codecs';
import { redactor } from './log';
import { deploymentRef, flag, integer, oneOf, optional, strings, text, type ParamsSpec } from './params';
import { secretNameOf, strengthOf } from './secrets';
import type { Store } from '../store/connect';
import type { Session } from './session';

const MAX_VALUES = 10_000;

/** Group names change rarely and every page of the explorer names its group: read them at most every few seconds. */
const GROUP_NAMES_TTL_MS = 5000;
const groupNames = new WeakMap<Store, { at: number; byId: Promise<Map<number, string>> }>();

function recentGroupNames(store: Store): Promise<Map<number, string>> {
  const hit = groupNames.get(store);
  if (hit && Date.now() - hit.at < GROUP_NAMES_TTL_MS) return hit.byId;
  const byId = groupNamesById(store);
  groupNames.set(store, { at: Date.now(), byId });
  byId.catch(() => groupNames.get(store)?.byId === byId && groupNames.delete(store));
  return byId;
}

export function registerKeystoreRequests(session: Session): void {
  const { stores } = session;

  session.onRequest(
    StatusRequest.type,
    { deployment: deploymentRef, skipLogs: optional(flag) },
    async (params, { context }) => {
      const deployment = session.deployment(params.deployment);
      const codec = await cachedCodec(deployment.encryptionKey);
      return stores.use(deployment.target, (store) => readStatus(store, { encryptionKey: deployment.encryptionKey, keySource: encryptionKeySource(deployment), codec, skipLogs: params.skipLogs ?? false }, context));
    },
    { en: 'GPT-Load: reading encryption status', zh: 'GPT-Load：读取加密状态' },
  );

  session.onRequest(StatusSummaryRequest.type, { deployment: deploymentRef, skipLogs: optional(flag) }, async (params) => {
    const deployment = session.deployment(params.deployment);
    const codec = await cachedCodec(deployment.encryptionKey);
    return stores.use(deployment.target, (store) => readStatusSummary(store, { codec, skipLogs: params.skipLogs ?? false }));
  });

  // Through the pool: its own connections are not "other sessions", and it stays open for the next request.
  session.onRequest(ServiceCheckRequest.type, { deployment: deploymentRef }, async (params) => {
    const deployment = session.deployment(params.deployment);
    const check = await stores.use(deployment.target, (store) => checkService(store, deployment));
    return {
      running: check.running,
      url: check.health.url,
      otherSessions: check.otherSessions,
      answered: check.health.answered,
      message: check.running ? session.text(describeService(check)) : null,
    };
  });

  // Reads only what lies beside the .env: no connection, nothing executed.
  session.onRequest(RestartAdviceRequest.type, { deployment: deploymentRef }, async (params) => {
    const hint = restartHint(session.deployment(params.deployment).envDir);
    return { kind: hint.deployment, command: hint.command, advice: session.text(hint.advice) };
  });

  session.onRequest(GroupsRequest.type, { deployment: deploymentRef }, async (params) => {
    const deployment = session.deployment(params.deployment);
    return { groups: await stores.use(deployment.target, (store) => readGroups(store)) };
  });

  const keysSpec: ParamsSpec<KeysRequest.Params> = {
    deployment: deploymentRef,
    groupId: optional(integer(0, Number.MAX_SAFE_INTEGER)),
    groupName: optional(text(255)),
    status: optional(oneOf<KeyStatus>(['active', 'invalid'])),
    value: optional(text(65_536)),
    limit: optional(integer(1, 1000)),
    afterId: optional(integer(0, Number.MAX_SAFE_INTEGER)),
  };
  session.onRequest(KeysRequest.type, keysSpec, async ({ deployment: ref, ...query }) => {
    const deployment = session.deployment(ref);
    redactor.add(query.value);
    const codec = await cachedCodec(deployment.encryptionKey);
    return stores.use(deployment.target, async (store) => listKeyPage(store, codec, { ...query, limit: query.limit ?? 100 }, { groupNames: await recentGroupNames(store) }));
  });

  session.onRequest(RevealKeyRequest.type, { deployment: deploymentRef, id: integer(1, Number.MAX_SAFE_INTEGER) }, async ({ deployment: ref, id }) => {
    const deployment = session.deployment(ref);
    const codec = await cachedCodec(deployment.encryptionKey);
    const key = await stores.use(deployment.target, (store) => revealKey(store, codec, id));
    redactor.add(key);
    return { id, key };
  });

  const valuesSpec: ParamsSpec<ValuesParams> = { values: strings(MAX_VALUES), encryptionKey: optional(text(65_536)), deployment: optional(deploymentRef) };
  const valuesRequest = (transform: (codec: KeyCodec, value: string, index: number) => string) => async (params: ValuesParams): Promise<ValuesResult> => {
    const codec = await codecFromParams(session, params);
    const results: Array<string | null> = [];
    const failures: ValuesResult['failures'] = [];
    params.values.forEach((value, index) => {
      try {
        results.push(transform(codec, value, index));
      } catch (err) {
        if (!(err instanceof DecryptError)) throw err;
        results.push(null);
        failures.push({ index, reason: err.reason });
      }
    });
    return { results, failures, keyFingerprint: codec.fingerprint };
  };
  session.onRequest(EncryptRequest.type, valuesSpec, valuesRequest((codec, value) => codec.encrypt(value)));
  session.onRequest(
    DecryptRequest.type,
    valuesSpec,
    valuesRequest((codec, value, index) => {
      const plain = codec.decrypt(value, index);
      redactor.add(plain);
      return plain;
    }),
  );
  session.onRequest(HashRequest.type, valuesSpec, valuesRequest((codec, value) => codec.hash(value)));

  session.onRequest(GenerateSecretRequest.type, { name: optional(text(255)), length: optional(integer(16, 256)) }, (params) => {
    const name = params.name ?? 'AUTH_KEY';
    const value = generateSecret(params.length ?? (name === 'ENCRYPTION_KEY' ? 48 : 32));
    redactor.add(value);
    return { value, strength: strengthOf(value, name, session.lang) };
  });

  const assessSpec: ParamsSpec<SecretAssessRequest.Params> = { name: optional(text(255)), value: text(65_536), asNewEncryptionKey: optional(flag) };
  session.onRequest(SecretAssessRequest.type, assessSpec, async (params) => {
    const name = params.name ?? 'AUTH_KEY';
    const { value } = params;
    redactor.add(value);
    const dashboard = assessSecret(value, secretNameOf(name)).map((w) => w.text);
    const migrate = params.asNewEncryptionKey ? weakNewKeyWarnings(value) : [];
    const warnings = [...new Set([...migrate, ...dashboard].map((w) => session.text(w)))];
    return { strength: strengthOf(value, name, session.lang), warnings, fingerprint: (await freshCodec(value)).fingerprint };
  });
}

/** encryptionKey (used for this request only, not cached), else the deployment's ENCRYPTION_KEY, else disabled mode. */
async function codecFromParams(session: Session, { encryptionKey, deployment: ref }: ValuesParams): Promise<KeyCodec> {
  if (encryptionKey !== undefined) {
    redactor.add(encryptionKey);
    return freshCodec(encryptionKey);
  }
  return cachedCodec(ref ? session.deployment(ref).encryptionKey : '');
}
