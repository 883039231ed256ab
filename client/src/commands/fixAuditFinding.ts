import * as vscode from 'vscode';
import type { Ctx } from '../context';
import { fixCommandOf, type AuditFindingNode } from '../views/auditNodes';
import { CommandIds } from '../../../shared/commands';

/** Fix (on a Security finding): the command that fixes it, for its deployment. */
export function registerFixAuditFinding(ctx: Ctx): void {
  ctx.registerCommand(CommandIds.fixAuditFinding, async (node: AuditFindingNode) => {
    const command = fixCommandOf(node.finding);
    if (command) await vscode.commands.executeCommand(command, node.deployment);
  });
}
