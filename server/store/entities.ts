/**
 * GPT-Load's tables as typeorm EntitySchemas (no decorators: esbuild emits no decorator metadata).
 * Names and types follow shared/design/ddl/*.sql exactly, per engine, because typeorm validates column
 * types against the driver. Only the columns this project reads or writes are mapped; the rest stay
 * untouched. `synchronize` is never enabled: GPT-Load owns these tables.
 */
import { EntitySchema, type EntitySchemaColumnOptions } from 'typeorm';
import type { DatabaseKind } from './dsn';

interface ApiKeyEntity {
  id: number;
  key_value: string;
  key_hash: string | null;
  group_id: number;
  status: string;
  notes: string | null;
  request_count: number;
  failure_count: number;
  last_used_at: Date | string | null;
  created_at: Date | string | null;
  updated_at: Date | string | null;
}

interface GroupEntity {
  id: number;
  name: string;
  display_name: string | null;
  proxy_keys: string | null;
  description: string | null;
  group_type: string | null;
  upstreams: unknown;
  channel_type: string;
  sort: number | null;
  test_model: string;
  config: unknown;
  created_at: Date | string | null;
  updated_at: Date | string | null;
}

interface GroupSubGroupEntity {
  id: number;
  group_id: number;
  sub_group_id: number;
  weight: number | null;
  created_at: Date | string | null;
  updated_at: Date | string | null;
}

interface RequestLogEntity {
  id: string;
  timestamp: Date | string;
  group_id: number;
  group_name: string | null;
  key_value: string | null;
  key_hash: string | null;
  model: string | null;
  is_success: boolean | number;
  status_code: number;
  request_path: string | null;
  duration: number;
  request_type: string;
  is_stream: boolean | number;
}

interface SystemSettingEntity {
  id: number;
  setting_key: string;
  setting_value: string;
  description: string | null;
  created_at: Date | string | null;
  updated_at: Date | string | null;
}

type Column = EntitySchemaColumnOptions;

/** Column types as GORM creates them on each engine (see the DDL files). */
function typesFor(kind: DatabaseKind) {
  switch (kind) {
    case 'sqlite':
      return {
        id: { type: 'integer', primary: true, generated: 'increment' } as Column,
        ref: { type: 'integer' } as Column,
        int: { type: 'integer' } as Column,
        bigint: { type: 'integer' } as Column,
        time: { type: 'datetime' } as Column,
        bool: { type: 'numeric' } as Column,
        json: { type: 'json' } as Column,
      };
    case 'mysql':
      return {
        id: { type: 'bigint', unsigned: true, primary: true, generated: 'increment' } as Column,
        ref: { type: 'bigint', unsigned: true } as Column,
        int: { type: 'bigint' } as Column,
        bigint: { type: 'bigint' } as Column,
        time: { type: 'datetime', precision: 3 } as Column,
        bool: { type: 'boolean' } as Column,
        json: { type: 'json' } as Column,
      };
    case 'postgres':
      return {
        id: { type: 'bigint', primary: true, generated: 'increment' } as Column,
        ref: { type: 'bigint' } as Column,
        int: { type: 'bigint' } as Column,
        bigint: { type: 'bigint' } as Column,
        time: { type: 'timestamptz' } as Column,
        bool: { type: 'boolean' } as Column,
        json: { type: 'jsonb' } as Column,
      };
  }
}

const varchar = (length: number, extra: Partial<Column> = {}): Column => ({ type: 'varchar', length, ...extra });
const text = (extra: Partial<Column> = {}): Column => ({ type: 'text', ...extra });

export interface GptLoadEntities {
  apiKeys: EntitySchema<ApiKeyEntity>;
  groups: EntitySchema<GroupEntity>;
  groupSubGroups: EntitySchema<GroupSubGroupEntity>;
  requestLogs: EntitySchema<RequestLogEntity>;
  systemSettings: EntitySchema<SystemSettingEntity>;
}

export function entitiesFor(kind: DatabaseKind): GptLoadEntities {
  const t = typesFor(kind);
  const nullable = (c: Column): Column => ({ ...c, nullable: true });
  const stamps = { created_at: nullable(t.time), updated_at: nullable(t.time) };
  return {
    apiKeys: new EntitySchema<ApiKeyEntity>({
      name: 'api_keys',
      tableName: 'api_keys',
      synchronize: false,
      columns: {
        id: t.id,
        key_value: text(),
        key_hash: varchar(128, { nullable: true }),
        group_id: t.ref,
        status: varchar(50, { default: 'active' }),
        notes: varchar(255, { nullable: true, default: '' }),
        request_count: { ...t.bigint, default: 0 },
        failure_count: { ...t.bigint, default: 0 },
        last_used_at: nullable(t.time),
        ...stamps,
      },
    }),
    groups: new EntitySchema<GroupEntity>({
      name: 'groups',
      tableName: 'groups',
      synchronize: false,
      columns: {
        id: t.id,
        name: varchar(255),
        display_name: varchar(255, { nullable: true }),
        proxy_keys: text({ nullable: true }),
        description: varchar(512, { nullable: true }),
        group_type: varchar(50, { nullable: true, default: 'standard' }),
        upstreams: t.json,
        channel_type: varchar(50),
        sort: { ...t.int, nullable: true, default: 0 },
        test_model: varchar(255),
        config: nullable(t.json),
        ...stamps,
      },
    }),
    groupSubGroups: new EntitySchema<GroupSubGroupEntity>({
      name: 'group_sub_groups',
      tableName: 'group_sub_groups',
      synchronize: false,
      columns: {
        id: t.id,
        group_id: t.ref,
        sub_group_id: t.ref,
        weight: { ...t.int, nullable: true, default: 0 },
        ...stamps,
      },
    }),
    requestLogs: new EntitySchema<RequestLogEntity>({
      name: 'request_logs',
      tableName: 'request_logs',
      synchronize: false,
      columns: {
        id: varchar(36, { primary: true }),
        timestamp: t.time,
        group_id: t.ref,
        group_name: varchar(255, { nullable: true }),
        key_value: text({ nullable: true }),
        key_hash: varchar(128, { nullable: true }),
        model: varchar(255, { nullable: true }),
        is_success: t.bool,
        status_code: t.int,
        request_path: varchar(500, { nullable: true }),
        duration: t.int,
        request_type: varchar(20, { default: 'final' }),
        is_stream: t.bool,
      },
    }),
    systemSettings: new EntitySchema<SystemSettingEntity>({
      name: 'system_settings',
      tableName: 'system_settings',
      synchronize: false,
      columns: {
        id: t.id,
        setting_key: varchar(255, { unique: true }),
        setting_value: text(),
        description: varchar(512, { nullable: true }),
        ...stamps,
      },
    }),
  };
}
