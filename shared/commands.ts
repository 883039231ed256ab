/**
 * The extension's command ids: the client registers them, package.json contributes exactly these
 * (test/unit/commandIds.test.ts), and the daemon puts migrateKeys and removeAuthKeyFromProxyKeys
 * into code actions (argument: the `.env` document URI). No imports: both bundles take it as is.
 */
export const CommandIds = {
  /** Opens the migrate flow for a deployment (also from the daemon's quick fix). */
  migrateKeys: 'gptLoad.migrateKeys',
  generateAuthKey: 'gptLoad.generateAuthKey',
  rotateAuthKey: 'gptLoad.rotateAuthKey',
  showStatus: 'gptLoad.showStatus',
  revealKey: 'gptLoad.revealKey',
  copyKey: 'gptLoad.copyKey',
  refresh: 'gptLoad.refresh',
  selectDeployment: 'gptLoad.selectDeployment',
  restartDaemon: 'gptLoad.restartDaemon',
  filterKeys: 'gptLoad.filterKeys',
  findKey: 'gptLoad.findKey',
  loadMore: 'gptLoad.loadMore',
  showLog: 'gptLoad.showLog',
  createBackup: 'gptLoad.createBackup',
  checkBackup: 'gptLoad.checkBackup',
  restoreBackup: 'gptLoad.restoreBackup',
  checkKeyBackups: 'gptLoad.checkKeyBackups',
  saveKeyCopy: 'gptLoad.saveKeyCopy',
  forgetKeyCopy: 'gptLoad.forgetKeyCopy',
  pruneBackups: 'gptLoad.pruneBackups',
  redactLogs: 'gptLoad.redactLogs',
  showAuditReport: 'gptLoad.showAuditReport',
  fixAuditFinding: 'gptLoad.fixAuditFinding',
  clearSearch: 'gptLoad.clearSearch',
  /** Removes the `.env`'s AUTH_KEY from GPT-Load's stored proxy keys, as `proxy-keys remove` (also from the daemon's quick fix). */
  removeAuthKeyFromProxyKeys: 'gptLoad.removeAuthKeyFromProxyKeys',
} as const;
