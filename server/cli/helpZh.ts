/**
 * The CLI's help in Simplified Chinese (`--lang zh-CN` or a Chinese LANG): the overview and every
 * command's `--help`, by command name. Flags, codes and examples stay as typed; a unit test holds
 * each text to the English one (same flags, same exit codes).
 */
import { auditHelpZh } from './helpZhAudit';

const DEPLOYMENT_HELP_ZH = `部署选项：
  --env FILE            GPT-Load 的 .env（默认 ./.env）；SQLite 的相对路径相对于它所在目录
  --dsn DSN             覆盖 DATABASE_DSN（否则依次取进程环境变量、.env，最后是 .env 旁的
                        ./data/gpt-load.db —— 与 GPT-Load 自己的顺序一致）
  --db-host HOST[:PORT] 连接此主机而非 DSN 中的主机（"mysql"、"postgres" 等 Docker Compose
                        服务名在 compose 网络之外无法解析）
  --timeout SECONDS     连接超时（默认 5 秒）
  --lang en|zh-CN       消息语言`;

const BACKUP_KEY_HELP_ZH = `备份密钥（不是 .env 中的 ENCRYPTION_KEY 时提供；只能选一种方式）：
  --key-env NAME        取自环境变量 NAME
  --key-file PATH       取自只含该密钥的文件
  --key-prompt          在终端中无回显输入
  --key KEY             写在命令行上（会留在 shell 历史和 \`ps\` 中，请避免）`;

function valuesHelp(command: string): string {
  return `用法：gpt-load-keystore ${command} [--key KEY | --env FILE] < values.txt

从标准输入逐行读取值，每行输出一个结果，与 GPT-Load 存储的方式完全一致。密钥依次取自
--key、环境变量 ENCRYPTION_KEY、--env FILE（有 ./.env 时默认用它）中的 ENCRYPTION_KEY；
没有密钥时按 GPT-Load 的未加密模式处理（值以明文存储，用 SHA-256 计算哈希）。请优先通过环境变量或 --env 提供 ENCRYPTION_KEY，
而不是 --key：写在命令行上的密钥会留在 shell 历史和 \`ps\` 中。

退出码：0 成功，2 参数错误，3 .env 无法读取，4 某个值无法解密或结果跨越多行（该行在标准输出中
留空，并在标准错误中指明行号，绝不引用内容；其余各行照常处理）。

示例：
  printf 'sk-abc\\n' | ENCRYPTION_KEY=… gpt-load-keystore ${command}`;
}

export interface ChineseHelp {
  summary: string;
  help: string;
}

/** The overview of `gpt-load-keystore --help`, around the command list. */
export const USAGE_ZH = {
  title: 'gpt-load-keystore —— 为 GPT-Load 提供安全的密钥加密、轮换、备份与 .env 检查',
  usage: '用法：gpt-load-keystore <命令> [选项]    （gpt-load-keystore <命令> --help 查看详情）',
  commands: '命令：',
  exitCodes: [
    '退出码：0 成功，1 有发现项，2 用法错误，3 .env 或密钥输入有误，4 密钥错误/无法解密，',
    '5 被安全检查拒绝，6 GPT-Load 正在运行，7 无法连接，8 不是 GPT-Load 数据库，',
    '9 备份无效，10 文件读写错误，130 已取消。',
  ],
};

export const HELP_ZH: Record<string, ChineseHelp> = {
  status: {
    summary: '加密状态：GPT-Load 仪表盘的结论，以及逐行的精确计数',
    help: `用法：gpt-load-keystore status [--env FILE] [--json] [--skip-logs]

给出 GPT-Load 仪表盘自己的结论（data_not_encrypted / key_not_configured / key_mismatch，
抽样 20 行、阈值与 GPT-Load 相同），并进一步给出 api_keys 和 request_logs 每一行的确切状态：
明文、已用当前 ENCRYPTION_KEY 加密、或无法解密；以及各分组按状态统计的密钥数。
还会说明所判断的 ENCRYPTION_KEY 来自何处：环境变量（它优先于 .env，对 GPT-Load 也是如此）或 .env；
若环境变量中的密钥掩盖了 .env 中不同的密钥，也会指出；.env 旁有 Compose 文件时，还会说明 GPT-Load
容器拿到的密钥（environment:、env_file:）以及它是否是另一个密钥（只显示指纹，从不显示密钥）。

选项：
  --json                输出机器可读的报告
  --skip-logs           不检查 request_logs（它可能有数百万行）
${DEPLOYMENT_HELP_ZH}

退出码：0 状态正常或为空，1 有需要处理的情况（包括中断的 migrate-keys），
3 .env 不存在（--env FILE 指向的文件不存在），7 无法连接，8 不是 GPT-Load 数据库。

示例：
  gpt-load-keystore status
  gpt-load-keystore status --env /srv/gpt-load/.env --db-host 127.0.0.1:3306 --json`,
  },
  'keys list': {
    summary: '按分组和状态分页列出已存储的密钥（已遮盖）',
    help: `用法：gpt-load-keystore keys list [--group NAME] [--status active|invalid] [--undecryptable] [--limit N] [--after ID] [--json]

按 GPT-Load 界面的方式列出密钥：id、分组、状态、遮盖后的密钥（绝不显示完整密钥）、请求次数与
失败次数、最近使用时间和备注。按 id 做键集分页：最后一行给出下一页要用的 --after ID，因此
百万密钥的分组翻页和小分组一样快。当前 ENCRYPTION_KEY 无法打开的密钥显示为 "(undecryptable)"。
要按值查找某个密钥，请用 keys find。

选项：
  --group NAME          只看此分组
  --status STATUS       active（有效）或 invalid（无效）
  --undecryptable       只列出当前 ENCRYPTION_KEY 无法打开的密钥（status 会统计它们）；存储值
                        以遮盖形式显示。migrate-keys --leave-undecryptable 会让它们保持原样
  --limit N             每页行数（默认 50）
  --after ID            从此密钥 id 之后开始
  --json                机器可读的一页（{items, nextAfterId}）
${DEPLOYMENT_HELP_ZH}

退出码：0 成功，2 参数错误或分组不存在，3 .env 无法读取，7 无法连接，
8 不是 GPT-Load 数据库。

示例：
  gpt-load-keystore keys list --group openai --status invalid
  gpt-load-keystore keys list --after 1050 --limit 100 --json`,
  },
  'keys find': {
    summary: '按确切的值查找密钥（从标准输入读取），结果已遮盖',
    help: `用法：gpt-load-keystore keys find [--group NAME] [--status active|invalid] [--json] < keys.txt

从标准输入逐行读取 API 密钥（绝不从命令行读取，那里会留在 shell 历史和 \`ps\` 中），输出存有
每个密钥的行，遮盖方式与 keys list 相同。与 GPT-Load 自己的搜索一样通过 key_hash 匹配：搜索时
不解密任何内容。设置了 ENCRYPTION_KEY 时，也能找到仍以明文存储的行，而 GPT-Load 的搜索会漏掉
它们。同一个密钥可能出现在多个分组中：每一行都会列出。

选项：
  --group NAME          只看此分组
  --status STATUS       active（有效）或 invalid（无效）
  --json                机器可读（{results: [{line, items}]}）
${DEPLOYMENT_HELP_ZH}

退出码：0 每个密钥都找到了，1 有密钥未找到（在标准错误中指明其所在行），2 参数错误、分组不存在
或标准输入中没有密钥，3 .env 无法读取，7 无法连接，8 不是 GPT-Load 数据库。

示例：
  gpt-load-keystore keys find < suspicious-keys.txt
  pbpaste | gpt-load-keystore keys find --group openai`,
  },
  encrypt: { summary: '按 GPT-Load 的存储方式加密值（标准输入，每行一个）', help: valuesHelp('encrypt') },
  decrypt: { summary: '解密已存储的值（标准输入，每行一个）；输出明文密钥', help: valuesHelp('decrypt') },
  hash: { summary: '计算值的 GPT-Load key_hash（标准输入，每行一个）', help: valuesHelp('hash') },
  'parse-env': {
    summary: '以 JSON 输出 godotenv（GPT-Load）从 .env 文件读到的变量',
    help: `用法：gpt-load-keystore parse-env FILE [--mask]

按 GPT-Load 所用的 godotenv v1.5.1 的方式解析 FILE（godotenv.Parse：只看文件本身），以 JSON
输出结果，键已排序。不套用进程环境变量：GPT-Load 启动时，环境中已设置的变量优先于文件
（godotenv.Load）；在 Docker Compose 下，容器的变量来自 Compose 自己对 env_file 的解析。

godotenv 拒绝该文件时（GPT-Load 随即会默默忽略整个文件），改为输出
{"error": "<godotenv 的消息>"}，并在标准错误中指明行和列。godotenv 的消息会引用文件的其余部分，
其中包括密钥。

选项：
  --mask    遮盖输出的值（只保留首尾字符和长度），便于分享

退出码：0 已解析，1 godotenv 拒绝该文件，2 用法错误，3 FILE 不存在，10 无法读取。

示例：
  gpt-load-keystore parse-env .env
  gpt-load-keystore parse-env /opt/gpt-load/.env --mask | jq -r .DATABASE_DSN`,
  },
  lint: {
    summary: "按 GPT-Load 的读取方式检查 .env 文件（语法、密钥强度、'$' 展开、git）以及 Compose 文件",
    help: `用法：gpt-load-keystore lint [FILE...] [--format text|json] [--lang en|zh-CN]

按 GPT-Load 的读取方式（godotenv v1.5.1）检查每个 FILE（默认 ./.env 及其旁边的 Compose 文件）：
  env-syntax / env-bom        godotenv 拒绝该文件 —— GPT-Load 随即忽略整个文件
  auth-key-missing            AUTH_KEY 为空或缺失（GPT-Load 无法启动）
  encryption-key-missing      已存储的 API 密钥以明文保存
  secret-too-short, secret-short, secret-weak-pattern, secret-low-complexity
                              GPT-Load 仪表盘对 AUTH_KEY 和 ENCRYPTION_KEY 的规则
  secret-placeholder          从文档中照抄的值（sk-123456、your-…）
  secret-reused               AUTH_KEY 与 ENCRYPTION_KEY 相同
  secret-expands              密钥中的 "$" 会被展开：GPT-Load 读到的是别的值
  undefined-variable          文件中此前未定义的 $NAME 读作空值
  duplicate-key               被后面的赋值覆盖的赋值
  compose-disagrees           Docker Compose 的 env_file 解析器读到的值不同
  env-not-ignored             该文件被 git 跟踪或未被忽略（直接询问 git）
Docker Compose 文件（docker-compose*.yml、compose*.yaml，或顶层有 services: 的任何文件）：
  compose-literal-secret      在 environment: 下直接写明了 AUTH_KEY 或 ENCRYPTION_KEY
输出中绝不出现值本身，最多是遮盖后的形式（首尾字符和长度）。

选项：
  --format text|json   text（默认）：FILE:LINE:COL SEVERITY CODE MESSAGE，从 1 开始计数；
                       json：[{file, code, severity, message, range, data}]，LSP 范围，从 0 开始
  --lang en|zh-CN      消息语言（默认取自 LANG）

退出码：0 没有错误级发现项（允许有警告），1 至少一个错误级发现项，
2 用法错误，3 某个 FILE 不存在，10 无法读取。

示例：
  gpt-load-keystore lint
  gpt-load-keystore lint deploy/.env --format json | jq '.[].code'
  gpt-load-keystore lint --lang zh-CN`,
  },
  'generate-auth-key': {
    summary: '生成用作 AUTH_KEY（或 ENCRYPTION_KEY）的随机密钥，每行一个',
    help: `用法：gpt-load-keystore generate-auth-key [--length N] [--count N]

输出 N 个随机密钥，每行一个。每个字符都从字母、数字和 "-_." 中均匀抽取（crypto.randomInt）——
godotenv、Docker Compose、URL（?key=）和 shell 都会原样接受这些字符，因此可以不加引号写入
.env —— 并通过 GPT-Load 仪表盘的每一项检查：没有弱模式（key、admin、123456 等），至少包含
三类字符。

选项：
  --length N   每个密钥的字符数，16..1024（默认 32；GPT-Load 把短于 32 的
               都称为"偏短"）
  --count N    生成几个，1..1000（默认 1）

要写入 .env，请优先使用编辑器命令，或用不回显的工具写入；不要在会留在 shell 历史中的命令行
上传递密钥。

退出码：0 成功，2 用法错误（--length 或 --count 不合法）。

示例：
  gpt-load-keystore generate-auth-key
  gpt-load-keystore generate-auth-key --length 48 --count 3`,
  },
  'migrate-keys': {
    summary: '启用、更换或停用已存储密钥（api_keys 和 request_logs）的加密，要么全部完成，要么什么都不改',
    help: `用法：gpt-load-keystore migrate-keys [--from OLD] [--to NEW] [选项]

更安全的 GPT-Load migrate-keys：只给 --to 表示启用加密，只给 --from 表示停用加密，两者都给表示
更换密钥（两次给同一个密钥会报错）。写入之前先检查 api_keys 和 request_logs 的每一行；每个数据库
在一个事务中重写全部行，否则什么都不改。GPT-Load 必须已停止（其 /health 不能有响应；在
MySQL/PostgreSQL 上不能有其他会话连接）。设置了 REDIS_DSN 时，随后会删除 GPT-Load 过时的缓存
条目（gpt-load:key:*、gpt-load:group:*:active_keys）；待写入的请求日志及其他内容保持不变。

密钥（新旧各选一种方式；优先选择不会让密钥留在 shell 历史和 \`ps\` 中的方式）：
  --from KEY / --to KEY            写在命令行上（与 GPT-Load 相同）
  --from-env NAME / --to-env NAME  取自环境变量，否则取 .env 中按 GPT-Load 方式读到的 NAME
                                   （--from-env ENCRYPTION_KEY：当前密钥）
  --from-file PATH / --to-file PATH  取自只含该密钥的文件
  --from-prompt / --to-prompt      在终端中无回显输入
  --generate                       生成一个新的强密钥，只显示一次（请妥善保存）

选项：
  --update-env          把新的 ENCRYPTION_KEY 写入 .env（停用加密时删除）；数据库变更期间，新
                        密钥以 GPT_LOAD_KEYSTORE_PENDING_KEY 暂存在 .env 中
  --skip-logs           不改动 request_logs（GPT-Load 自己的行为）
  --leave-undecryptable 两个密钥都无法解密的行保持原样（摘要中会列出；
                        \`keys list --undecryptable\` 可列出它们），而不是拒绝本次运行
  --dry-run             执行全部检查并报告将会改变什么；不写入任何内容
  --force               即使 GPT-Load 看起来在运行也继续（摘要中会注明）
  --yes                 在终端中不再询问确认
  --allow-weak-key      在无终端确认时（--yes、CI、无 TTY）接受 GPT-Load 仪表盘会标记的新密钥
                        （过短、弱模式、复杂度低）；否则在写入任何内容之前拒绝。在终端中，
                        警告会随执行计划一起显示，由你确认
  --compose FILE        GPT-Load 运行所用的 Docker Compose 文件（默认：.env 旁的 compose.yaml /
                        docker-compose.yml 及其 override）。使用 --update-env 时，除非 GPT-Load
                        的容器能从中得到新密钥，否则拒绝执行；其 DATABASE_DSN 指向其他数据库时
                        一律拒绝
  --json                在标准输出中给出机器可读的摘要（进度仍输出到标准错误）
  --redis-host HOST[:PORT]  通过此地址访问 REDIS_DSN 的服务器（Docker Compose 服务名在外部无法解析）
  --no-cache            不改动 Redis
  --no-backup           跳过备份（默认会在切换前把数据备份到 <.env 所在目录>/backups，
                        并在写入任何内容之前检查该备份）
  --backup-dir DIR      改为把该备份写到此目录
  --threads N           加密工作线程数（默认每个 CPU 一个，MySQL/PostgreSQL 少一个；0 = 主线程）
  --batch-size N        每批行数（SQLite 默认 2000，MySQL/PostgreSQL 默认 2500）
${DEPLOYMENT_HELP_ZH}

运行被中断（Ctrl-C、崩溃、kill）后，数据库要么全是旧状态，要么全是新状态，绝不会混杂：
重新运行同一条命令即可完成；\`status\` 会说明留下了什么。

退出码：0 完成（或无需处理：数据已使用 --to 密钥，.env 也已是该密钥），
2 用法错误，3 密钥输入有误（弱密钥未经确认；使用 --update-env 但没有 .env），
5 被检查拒绝（附精确计数；Docker Compose 会给 GPT-Load 另一个密钥或数据库），
6 GPT-Load 正在运行，7 无法连接，10 文件读写错误，130 已取消。

示例：
  gpt-load-keystore migrate-keys --generate --update-env
  ENC_NEW=… gpt-load-keystore migrate-keys --from-env ENC_OLD --to-env ENC_NEW --update-env
  gpt-load-keystore migrate-keys --from-prompt --dry-run`,
  },
  'backup create': {
    summary: '备份 GPT-Load 的数据表（SQLite：在线备份；MySQL/PostgreSQL：一个一致的快照）',
    help: `用法：gpt-load-keystore backup create [--out FILE | --dir DIR] [--no-logs] [--json]

备份 GPT-Load 的数据表（api_keys、groups、group_sub_groups、request_logs、system_settings、
group_hourly_stats），GPT-Load 可以继续运行：
  SQLite             用 SQLite 在线备份 API 生成的副本：一个普通的 .db 文件，旁边另有
                     FILE.sha256（sha256sum 格式）
  MySQL/PostgreSQL   在一个快照事务中流式写入 gzip 压缩的 JSON Lines 文件
                     （docs/backup-format.md）；数据再多，内存占用也保持平稳
每个备份都带有封签的清单：来源（不含密码）、时间、工具版本、各表行数和 SHA-256 校验和、每个
已存储密钥的加密状态，以及解开它所需的 ENCRYPTION_KEY 的指纹。文件以 0600 权限创建。默认位置：
<.env 所在目录>/backups/gpt-load-<引擎>-<UTC 时间>.db|.jsonl.gz

选项：
  --out FILE            写入这个文件（不能已存在）
  --dir DIR             自动命名的文件放在此目录（默认：.env 旁的 backups/）
  --no-logs             不备份 request_logs（它可能有数百万行）
  --json                在标准输出中给出机器可读的结果
${DEPLOYMENT_HELP_ZH}

退出码：0 已写入，7 无法连接，8 不是 GPT-Load 数据库，10 文件读写错误，130 已取消。

示例：
  gpt-load-keystore backup create
  gpt-load-keystore backup create --env /srv/gpt-load/.env --db-host 127.0.0.1:5432 --out /safe/before-rotation.jsonl.gz`,
  },
  'backup check': {
    summary: '检查备份：完整性、是否齐全、所需的密钥、时效，以及此后发生的变化',
    help: `用法：gpt-load-keystore backup check FILE [--env FILE] [--key-env NAME | --key-file PATH | --key-prompt] [--max-age 7d] [--no-live] [--json]

检查由 \`backup create\` 生成的备份：
  完整性        每个字节与其摘要相符；每一行与其所在表的 SHA-256 相符；每张表都在且行数与清单
                一致；SQLite 的 PRAGMA integrity_check
  密钥          每个已存储的密钥都能用给定的密钥打开，否则用 .env 中的 ENCRYPTION_KEY（或提示：
                "此备份需要指纹为 … 的密钥"）
  时效          早于 --max-age（默认 7d）即为过时
  实时对比      自备份以来，部署的数据库中少了或多了哪些密钥（按哈希比较）；数据库无法连接时
                跳过并加以说明

选项：
  --max-age DUR         例如 24h、7d（默认 7d）
  --no-live             不与实时数据库对比
  --json                在标准输出中给出完整报告
${BACKUP_KEY_HELP_ZH}
${DEPLOYMENT_HELP_ZH}

退出码：0 正常，1 已过时或与实时数据库不同，4 密钥打不开此备份，
9 已损坏或不完整（或不是备份），10 文件无法读取。

示例：
  gpt-load-keystore backup check backups/gpt-load-sqlite-20250101T020304Z.db
  OLD_KEY=… gpt-load-keystore backup check old.jsonl.gz --key-env OLD_KEY --no-live --json`,
  },
  'backup restore': {
    summary: '用检查过的备份替换 GPT-Load 的数据行，在一个事务中完成',
    help: `用法：gpt-load-keystore backup restore FILE [--dry-run] [--force] [--yes] [--key-env NAME | --key-file PATH | --key-prompt]

先完整检查备份，然后在一个事务中用备份的行替换其所含各表的全部行：任何时刻崩溃或被 kill，
旧数据都保持原样。SQLite 直接恢复到正在使用的文件中（其日志保证事务的原子性）；恢复前的
状态会先另存为一个经过检查的新备份（除非给出 --no-safety-backup）。

以下情况会拒绝执行：备份的封签无法验证（除非给出 --accept-unverified）；GPT-Load 正在运行（其 /health 有响应，或有其他会话连接到数据库），除非
给出 --force；备份已损坏；备份中的密钥使用的 ENCRYPTION_KEY 与 .env 中的不同且未提供该密钥——
提供后，每个密钥都会在同一事务中重新加密为 .env 的密钥，GPT-Load 可立即读取。明文密钥的备份
也会以同样方式用 .env 的密钥加密。

选项：
  --dry-run             执行全部检查并列出将恢复的内容，包括备份之后新增的密钥（将被删除）
                        和之后删除的密钥（将被恢复）；不写入任何内容
  --force               即使 GPT-Load 看起来在运行也继续
  --yes                 在终端中不再询问确认
  --no-safety-backup    不先备份当前状态
  --no-cache            之后不清除 GPT-Load 过时的 Redis 条目
  --redis-host HOST[:PORT]  通过此地址访问 REDIS_DSN 的服务器
  --json                在标准输出中给出机器可读的结果
  --accept-unverified   即使无法用手头的密钥验证备份的封签（较旧的无密钥封签备份，或用未提供的
                        密钥封签）也恢复：其中的行可能已不是当初备份的内容。仅用于来源可信的文件
${BACKUP_KEY_HELP_ZH}
${DEPLOYMENT_HELP_ZH}

退出码：0 已恢复（或演练完成），3 需要备份的密钥，4 密钥错误/有已存储的密钥打不开，5 数据库
无法接收此备份，6 GPT-Load 正在运行，7 无法连接，9 备份已损坏或不完整，130 已取消或未确认。

示例：
  gpt-load-keystore backup restore backups/gpt-load-postgres-20250101T020304Z.jsonl.gz --dry-run
  OLD_KEY=… gpt-load-keystore backup restore old.db --key-env OLD_KEY`,
  },
  'backup list': {
    summary: '列出部署旁的备份及其结论（可用当前密钥打开/需要其他密钥/已过时/已损坏/含明文密钥）',
    help: `用法：gpt-load-keystore backup list [--dir DIR] [--max-age 7d] [--json]

列出 DIR（默认：.env 旁的 backups/）中的备份，最新的在前，并对每个做快速检查：清单和封签、
每个字节与其摘要是否相符、按指纹比较所需密钥与 .env 中的 ENCRYPTION_KEY，以及时效。中断的
备份（*.partial）显示为已损坏：请删除它们，其中可能含有密钥。含明文密钥的备份（启用加密前创建）
标为风险：当前密钥下已有备份后，\`backup prune --plaintext\` 可删除它们。\`backup check FILE\`
可完整检查单个备份。

选项：
  --dir DIR             要列出的目录
  --max-age DUR         早于此时长即为过时（默认 7d）
  --json                机器可读的列表
${DEPLOYMENT_HELP_ZH}

退出码：0 已列出（无论结论如何），3 .env 无法读取，10 目录无法读取。`,
  },
  'keys check-copies': {
    summary: '用已存储的密钥和备份检查 ENCRYPTION_KEY 的副本（标准输入，每行一个）',
    help: `用法：gpt-load-keystore keys check-copies [--backups DIR] [--json] < copies.txt

丢失 ENCRYPTION_KEY 会让所有已存储的密钥（包括备份中的）无法恢复：请保留副本并定期检查。
从标准输入逐行读取副本（在终端中无回显输入；绝不从命令行读取），用每个副本尝试解密一部分已
存储的加密密钥，并说明它是否就是 .env 中的密钥、能打开哪些备份（位于 --backups DIR，默认为
.env 旁的 backups/）。只输出指纹。

选项：
  --backups DIR         要匹配的备份目录（默认：.env 旁的 backups/）
  --json                机器可读的报告
${DEPLOYMENT_HELP_ZH}

退出码：0 每个副本都是该密钥（没有已加密的密钥时，则都是 .env 中的密钥），
1 有副本不是，2 没有提供副本，7 无法连接。

示例：
  pass show gpt-load/encryption-key | gpt-load-keystore keys check-copies`,
  },
  'proxy-keys list': {
    summary: 'GPT-Load 已存储的代理密钥（已遮盖）：各自用在哪里、弱密钥、与 AUTH_KEY 重复',
    help: `用法：gpt-load-keystore proxy-keys list [--json] [--env FILE]

列出 GPT-Load 存储的每个不同的代理密钥 —— 全局列表（system_settings.proxy_keys，GPT-Load 首次
启动时把 AUTH_KEY 复制到了这里）和各分组的列表（groups.proxy_keys）—— 按 GPT-Load 的方式拆分
并去除首尾空白，并对每个密钥说明：
  - 用在哪里：全局列表、哪些分组；
  - GPT-Load 仪表盘自己的警告：过短（< 16 字节为高风险，< 32 为中风险）、弱模式
    （key、test、admin、123456 等）、复杂度低；
  - 是否就是 .env 中的 AUTH_KEY：持有该代理密钥的人也能登录管理界面；
  - 是否存储在多处：只在一处撤销，在其他地方仍然有效。
密钥以遮盖形式显示（16 个字符起显示首尾字符和长度），绝不显示完整密钥。

选项：
  --json                机器可读（{keys: [{masked, length, settings, groups, isAuthKey,
                        reused, warnings}]}）；settings = 在全局列表中出现的次数
${DEPLOYMENT_HELP_ZH}

退出码：0 没有需要警告的，1 有密钥带警告、就是 AUTH_KEY 或被重复使用，
3 .env 无法读取，7 无法连接，8 不是 GPT-Load 数据库。

示例：
  gpt-load-keystore proxy-keys list
  gpt-load-keystore proxy-keys list --env /srv/gpt-load/.env --db-host 127.0.0.1:3306 --json`,
  },
  'proxy-keys remove': {
    summary: '从全局列表和每个分组列表中删除一个代理密钥（从标准输入读取）',
    help: `用法：gpt-load-keystore proxy-keys remove [--dry-run] [--json] [--env FILE] < key.txt

在一个事务中从 GPT-Load 已存储的代理密钥中删除一个 —— 全局列表（system_settings.proxy_keys）
和每个分组的列表（groups.proxy_keys）；其他密钥按原样和原顺序保留。请在轮换 AUTH_KEY 之后使用：
GPT-Load 首次启动时把 AUTH_KEY 复制到了全局代理密钥中，因此在那里删除之前，旧的 AUTH_KEY
仍可作为代理密钥使用。

密钥从标准输入读取 —— 一行；标准输入是终端时则无回显输入 —— 绝不从命令行读取，那里会留在
shell 历史和 \`ps\` 中。匹配方式与 GPT-Load 相同：去除首尾空白，其余须完全一致。输出中只显示
遮盖后的形式。

GPT-Load 在启动时读取代理密钥并保存在内存中，因此之后请重启使用此数据库的每个 GPT-Load 实例；
输出会说明它是否看起来在运行（.env 中 HOST:PORT 上的 GET /health、其他数据库会话）以及如何
重启。它运行时并不拒绝此更改：重启之前，它仍会接受旧密钥。

选项：
  --dry-run             只显示该密钥存储在哪里；不做任何更改
  --json                机器可读的结果（已遮盖；不含密钥）
${DEPLOYMENT_HELP_ZH}

退出码：0 已删除（使用 --dry-run 时：已找到），1 没有已存储的代理密钥是这个值，2 没有密钥、
标准输入超过一行或密钥中含逗号，3 .env 无法读取，7 无法连接，
8 不是 GPT-Load 数据库。

示例：
  gpt-load-keystore proxy-keys remove --dry-run < old-auth-key.txt
  gpt-load-keystore proxy-keys remove < old-auth-key.txt && docker compose restart gpt-load
  gpt-load-keystore proxy-keys remove --env /srv/gpt-load/.env      （会询问密钥）`,
  },
  'backup prune': {
    summary: '删除旧备份（可按要求先删明文备份），每个密钥保留最新的一份',
    help: `用法：gpt-load-keystore backup prune [--keep N] [--max-age DUR] [--plaintext] [--dry-run] [--yes] [--dir DIR] [--json]

删除 DIR（默认：.env 旁的 backups/）中没有任何规则保留的备份。始终保留：每个 ENCRYPTION_KEY
指纹下最新的一份完整备份（回到该密钥下数据的唯一途径），以及所有不完整的文件（损坏、中断或仍在
写入）：请自行查看并删除。每份备份与其 .sha256 文件一起删除，先删备份。

--plaintext 删除所有含明文密钥的备份（例如 migrate-keys 在启用加密前创建的备份），无论其他规则是否
保留它。如果删除后将没有任何能恢复当前数据的备份，prune 会说明，并只在确认（--yes）后删除。

选项：
  --keep N              保留最新的 N 份完整备份
  --max-age DUR         保留比 DUR 新的完整备份（例如 24h、30d）
  --plaintext           删除含明文密钥的备份
  --dry-run             只列出将被删除的文件；不删除
  --yes                 在终端上不询问（并确认删除当前数据的最后一份备份）
  --dir DIR             要清理的目录
  --json                在标准输出打印机器可读的结果
${DEPLOYMENT_HELP_ZH}

退出码：0 完成（或演练），2 未给出规则，5 将不再有当前数据的备份（未加 --yes），
10 文件无法删除，130 未确认。

示例：
  gpt-load-keystore backup prune --keep 5 --max-age 30d --dry-run
  gpt-load-keystore backup prune --plaintext --yes`,
  },
  'redact-logs': {
    summary: '遮盖 GPT-Load（v1.4.9 之前）存入 request_logs.error_message 的上游密钥',
    help: `用法：gpt-load-keystore redact-logs [--dry-run] [--yes] [--no-backup] [选项]

v1.4.9 之前，GPT-Load 把带完整上游 URL 的传输错误写入 request_logs.error_message，而 Gemini
渠道把 API 密钥放在该 URL 的查询参数中：无论是否加密，这些密钥都以明文留在那里。本命令按
GPT-Load v1.4.9 写入时的方式遮盖密钥池中的每个密钥（当前 ENCRYPTION_KEY 能解开的每个 api_keys
值，以及每行日志自己的密钥）：key[:4] + "****" + key[len-4:]，8 字节及以下的密钥保持不变。
其他内容均不改变。中断的 GPT-Load migrate-keys 遗留的 temp_migration 表也会被删除。

先只读检查每一行；然后在终端确认并写好、校验备份之后，在一个事务中改写受影响的行，并在 COMMIT
之前核对行数。GPT-Load 必须已停止。在提交前按 Ctrl-C，数据库保持原样。

选项：
  --dry-run             统计需要遮盖的行数和出现次数；不写入
  --yes                 在终端上不询问确认
  --force               即使 GPT-Load 看起来在运行也继续
  --json                在标准输出打印机器可读的摘要（进度仍在标准错误）
  --no-backup           跳过备份（默认先写入 <.env 所在目录>/backups 并校验；备份保留未遮盖的
                        文本：用完请删除）
  --backup-dir DIR      把该备份写到这里
  --batch-size N        每批行数（SQLite 默认 2000，MySQL/PostgreSQL 默认 5000）
${DEPLOYMENT_HELP_ZH}

退出码：0 完成（或无事可做），2 用法错误，5 被检查拒绝，6 GPT-Load 正在运行，
7 无法连接，130 已取消。

示例：
  gpt-load-keystore redact-logs --dry-run
  gpt-load-keystore redact-logs --env /srv/gpt-load/.env --db-host 127.0.0.1:3306 --yes`,
  },
  ...auditHelpZh(DEPLOYMENT_HELP_ZH),
};
