/** Sizes for people: binary units, three significant digits at most, as df -h and lsblk show them. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** @bytes as "512 B", "1.5 KiB", "100 MiB", "9.8 GiB". */
export function humanSize(bytes: number): string {
	let value = bytes;
	let unit = 0;
	while (value >= 1024 && unit < UNITS.length - 1) {
		value /= 1024;
		unit++;
	}
	if (unit === 0)
		return `${bytes} B`;
	// One decimal below 10, none above: 9.8 MiB, 98 MiB, 980 MiB.
	const shown = value < 10 ? Math.round(value * 10) / 10 : Math.round(value);
	// 1023.7 MiB rounds to 1024: say 1 GiB instead.
	if (shown >= 1024 && unit < UNITS.length - 1)
		return `1 ${UNITS[unit + 1]}`;
	return `${shown} ${UNITS[unit]}`;
}
