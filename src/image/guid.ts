/**
 * GUIDs as GPT stores them: 16 bytes whose first three fields are
 * little-endian (UEFI's EFI_GUID layout) and the last eight bytes in
 * order, written as text in the usual 8-4-4-4-12 form.
 */

const GUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The all-zero GUID: an unused GPT entry's type. */
export const NIL_GUID = '00000000-0000-0000-0000-000000000000';

/** Whether @text is a GUID in 8-4-4-4-12 hexadecimal form. */
export function isGuid(text: string): boolean {
	return GUID_TEXT.test(text);
}

/** The 16 bytes at @offset of @buf as a lower-case GUID. */
export function readGuid(buf: Uint8Array, offset: number): string {
	const b = Buffer.from(buf.buffer, buf.byteOffset + offset, 16);
	const hex = (from: number, to: number, reverse: boolean): string => {
		const part = Buffer.from(b.subarray(from, to));
		return (reverse ? part.reverse() : part).toString('hex');
	};
	return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`;
}

/** Writes GUID @text into @buf at @offset; throws a TypeError for anything else. */
export function writeGuid(buf: Uint8Array, offset: number, text: string): void {
	if (!isGuid(text))
		throw new TypeError(`not a GUID: ${JSON.stringify(text)}`);
	const h = text.replace(/-/g, '');
	const bytes = Buffer.from(h, 'hex');
	// The first three fields go in little-endian.
	bytes.subarray(0, 4).reverse();
	bytes.subarray(4, 6).reverse();
	bytes.subarray(6, 8).reverse();
	buf.set(bytes, offset);
}
