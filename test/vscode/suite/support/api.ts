import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { TestApi } from '../../../../client/src/extension';
import { MemoryClipboard, ScriptedUI } from './scriptedUI';

export const EXTENSION_ID = 'gpt-load-keystore.gpt-load-keystore';

/** The extension's test API (activate() returns it outside production mode). */
export async function extensionApi(): Promise<TestApi> {
  const extension = vscode.extensions.getExtension<TestApi>(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is not loaded`);
  const api = await extension.activate();
  assert.ok(api, 'activate() returned no test API');
  return api;
}

/** A fresh scripted UI and memory clipboard installed into the extension. */
export function script(api: TestApi): { ui: ScriptedUI; clipboard: MemoryClipboard } {
  const ui = new ScriptedUI();
  const clipboard = new MemoryClipboard();
  api.setUI(ui);
  api.ctx.clipboard.target = clipboard;
  return { ui, clipboard };
}
