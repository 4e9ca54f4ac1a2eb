/**
 * Text for a terminal from names a crafted image chose: its control
 * characters written out as escapes, so that a name can neither split
 * lkl's one line of error in two (a newline, a carriage return) nor
 * drive the terminal (an escape sequence), nor reorder what is shown
 * (bidirectional overrides).
 */

// C0 controls and DEL, C1 controls, line and paragraph separators, and
// the bidirectional embeddings, overrides and isolates.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** @text with each unprintable character as \n, \r, \t, \xNN or \uNNNN. */
export function printable(text: string): string {
	return text.replace(UNPRINTABLE, (c) => {
		const code = c.charCodeAt(0);
		return NAMED[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
	});
}
