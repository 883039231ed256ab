/**
 * Columns as a terminal shows them: padded by display width (string-width), so a Chinese heading
 * or verdict, two columns per character, lines up with the ASCII under it.
 */
import stringWidth from 'string-width';

/** Rows of cells (the first one the header) as lines, each column padded to its widest cell. */
export function tableLines(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => stringWidth(r[i]))));
  return rows.map((r) => r.map((c, i) => c + ' '.repeat(widths[i] - stringWidth(c))).join('  ').trimEnd());
}
