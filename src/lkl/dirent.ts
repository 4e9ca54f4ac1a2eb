// Directory entries in node:fs's Dirent shape, typed from getdents' d_type.

// d_type values; they are the S_IF* type bits shifted down by 12.
const DT_FIFO = 1;
const DT_CHR = 2;
const DT_DIR = 4;
const DT_BLK = 6;
const DT_REG = 8;
const DT_LNK = 10;
const DT_SOCK = 12;

/** One entry of readdir({ withFileTypes: true }). */
export class Dirent<Name extends string | Buffer = string> {
	/** The entry's name (a Buffer with encoding 'buffer'). */
	readonly name: Name;
	/** The directory that holds it, as given to readdir (joined when recursive). */
	readonly parentPath: string;
	readonly #type: number;

	/** @internal Built by Mount.readdir. */
	constructor(name: Name, parentPath: string, type: number) {
		this.name = name;
		this.parentPath = parentPath;
		this.#type = type;
	}

	/** Same as parentPath; node:fs's older name for it. */
	get path(): string {
		return this.parentPath;
	}

	/** A regular file. */
	isFile(): boolean {
		return this.#type === DT_REG;
	}

	/** A directory. */
	isDirectory(): boolean {
		return this.#type === DT_DIR;
	}

	/** A symbolic link. */
	isSymbolicLink(): boolean {
		return this.#type === DT_LNK;
	}

	/** A character device. */
	isCharacterDevice(): boolean {
		return this.#type === DT_CHR;
	}

	/** A block device. */
	isBlockDevice(): boolean {
		return this.#type === DT_BLK;
	}

	/** A named pipe. */
	isFIFO(): boolean {
		return this.#type === DT_FIFO;
	}

	/** A Unix socket. */
	isSocket(): boolean {
		return this.#type === DT_SOCK;
	}
}

/** DT_UNKNOWN: the filesystem did not say; lstat must. */
export const DT_UNKNOWN = 0;

/** The d_type for a mode's file type bits. */
export function modeToDtype(mode: number): number {
	return (mode >> 12) & 0xf;
}
