/**
 * Small files a sink holds back to write together, in one call into the
 * kernel (cptofs) or onto the host (cpfromfs) rather than one each: a tree
 * of small files is mostly the cost of the calls.  Up to this many files,
 * or this many bytes.
 */
const BATCH_FILES = 64;
const BATCH_BYTES = 4 << 20;

export class SmallFiles<Item> {
	#items: Item[] = [];
	#bytes = 0;

	/** Holds @item, of @size bytes; true once the batch should be written. */
	add(item: Item, size: number): boolean {
		this.#items.push(item);
		this.#bytes += size;
		return this.#items.length >= BATCH_FILES || this.#bytes >= BATCH_BYTES;
	}

	/** The files held, which the sink now writes; none are held after. */
	take(): Item[] {
		const items = this.#items;
		this.#items = [];
		this.#bytes = 0;
		return items;
	}
}
