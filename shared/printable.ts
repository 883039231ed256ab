/**
 * Stored text shown to a person: group names, notes, manifest fields — anything read from a
 * database or a backup file, which whoever can write those chose. In a terminal ESC sequences
 * would act (clear the screen, set the clipboard through OSC 52), a newline would forge a line of
 * our own ("State: ok"), bidirectional overrides would reorder what is read; in an editor label
 * they garble it. Each such character is shown escaped instead: `\n`, `\x1b`, `\u202e`.
 *
 * Used at the output boundary: the CLI's text output line by line, the daemon's labels and
 * reports, the extension's tree labels. Imports nothing, so every bundle can take it.
 */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function printable(text: string): string {
  return text.replace(CONTROLS, (c) => {
    const code = c.charCodeAt(0);
    return NAMED[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
  });
}

/** Lines of text output, each made printable, joined and ended with a newline. */
export function printableLines(lines: string[]): string {
  return lines.map(printable).join('\n') + '\n';
}
