/**
 * Keystore requests: each one checks its params, resolves the deployment and calls one operation of
 * server/keystore (or the core) — no logic of its own beyond shaping the wire result.
 */
import { DecryptError, type KeyCodec } from '../core/crypto';
import { assessSecret, generateSecret, weakNewKeyWarnings } from '../core/secrets';
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
  type ValuesResult,
} from '../../shared/protocol';
import { cachedCodec, freshCodec } from './codecs';
import { redactor } from './log';
import { deploymentRef, oneOf, optBool, optDeploymentRef, optInt, optString, reqInt, reqString, stringArray, type Fields } from './params';
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
    async (params, { context }) => {
      const deployment = session.deployment(deploymentRef(params));
      const skipLogs = optBool(params, 'skipLogs') ?? false;
      const codec = await cachedCodec(deployment.encryptionKey);
      return stores.use(deployment.target, (store) => readStatus(store, { encryptionKey: deployment.encryptionKey, codec, skipLogs }, context));
    },
    { en: 'GPT-Load: reading encryption status', zh: 'GPT-Load：读取加密状态' },
  );

  session.onRequest(StatusSummaryRequest.type, async (params) => {
    const deployment = session.deployment(deploymentRef(params));
    const skipLogs = optBool(params, 'skipLogs') ?? false;
    const codec = await cachedCodec(deployment.encryptionKey);
    return stores.use(deployment.target, (store) => readStatusSummary(store, { codec, skipLogs }));
  });

  // Through the pool: its own connections are not "other sessions", and it stays open for the next request.
  session.onRequest(ServiceCheckRequest.type, async (params) => {
    const deployment = session.deployment(deploymentRef(params));
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
  session.onRequest(RestartAdviceRequest.type, async (params) => {
    const hint = restartHint(session.deployment(deploymentRef(params)).envDir);
    return { kind: hint.deployment, command: hint.command, advice: session.text(hint.advice) };
  });

  session.onRequest(GroupsRequest.type, async (params) => {
    const deployment = session.deployment(deploymentRef(params));
    return { groups: await stores.use(deployment.target, (store) => readGroups(store)) };
  });

  session.onRequest(KeysRequest.type, async (params) => {
    const deployment = session.deployment(deploymentRef(params));
    const value = optString(params, 'value', 65_536);
    redactor.add(value);
    const query = {
      groupId: optInt(params, 'groupId', 0, Number.MAX_SAFE_INTEGER),
      groupName: optString(params, 'groupName', 255),
      status: oneOf(params, 'status', ['active', 'invalid'] as const),
      value,
      limit: optInt(params, 'limit', 1, 1000) ?? 100,
      afterId: optInt(params, 'afterId', 0, Number.MAX_SAFE_INTEGER),
    };
    const codec = await cachedCodec(deployment.encryptionKey);
    return stores.use(deployment.target, async (store) => listKeyPage(store, codec, query, { groupNames: await recentGroupNames(store) }));
  });

  session.onRequest(RevealKeyRequest.type, async (params) => {
    const deployment = session.deployment(deploymentRef(params));
    const id = reqInt(params, 'id', 1, Number.MAX_SAFE_INTEGER);
    const codec = await cachedCodec(deployment.encryptionKey);
    const key = await stores.use(deployment.target, (store) => revealKey(store, codec, id));
    redactor.add(key);
    return { id, key };
  });

  const valuesRequest = (transform: (codec: KeyCodec, value: string, index: number) => string) => async (params: Fields): Promise<ValuesResult> => {
    const values = stringArray(params, 'values', MAX_VALUES);
    const codec = await codecFromParams(session, params);
    const results: Array<string | null> = [];
    const failures: ValuesResult['failures'] = [];
    values.forEach((value, index) => {
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
  session.onRequest(EncryptRequest.type, valuesRequest((codec, value) => codec.encrypt(value)));
  session.onRequest(
    DecryptRequest.type,
    valuesRequest((codec, value, index) => {
      const plain = codec.decrypt(value, index);
      redactor.add(plain);
      return plain;
    }),
  );
  session.onRequest(HashRequest.type, valuesRequest((codec, value) => codec.hash(value)));

  session.onRequest(GenerateSecretRequest.type, (params) => {
    const name = optString(params, 'name', 255) ?? 'AUTH_KEY';
    const length = optInt(params, 'length', 16, 256) ?? (name === 'ENCRYPTION_KEY' ? 48 : 32);
    const value = generateSecret(length);
    redactor.add(value);
    return { value, strength: strengthOf(value, name, session.lang) };
  });

  session.onRequest(SecretAssessRequest.type, async (params) => {
    const name = optString(params, 'name', 255) ?? 'AUTH_KEY';
    const value = reqString(params, 'value', 65_536);
    redactor.add(value);
    const dashboard = assessSecret(value, secretNameOf(name)).map((w) => w.text);
    const migrate = optBool(params, 'asNewEncryptionKey') ? weakNewKeyWarnings(value) : [];
    const warnings = [...new Set([...migrate, ...dashboard].map((w) => session.text(w)))];
    return { strength: strengthOf(value, name, session.lang), warnings, fingerprint: (await freshCodec(value)).fingerprint };
  });
}

/** encryptionKey (used for this request only, not cached), else the deployment's ENCRYPTION_KEY, else disabled mode. */
async function codecFromParams(session: Session, params: Fields): Promise<KeyCodec> {
  const key = optString(params, 'encryptionKey', 65_536);
  if (key !== undefined) {
    redactor.add(key);
    return freshCodec(key);
  }
  const ref = optDeploymentRef(params);
  return cachedCodec(ref ? session.deployment(ref).encryptionKey : '');
}
