/** Command ids, as contributed in package.json. */
export const CommandIds = {
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
} as const;
