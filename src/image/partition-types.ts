/**
 * Partition types people meet: GPT type GUIDs (the UEFI specification's
 * and the Discoverable Partitions Specification's) and MBR type bytes,
 * with a name to show and a short alias a partition spec may use instead
 * of the number.  A type not listed is shown by its number alone.
 */

/** What a partition of a type is meant to hold, where that is more than "a filesystem". */
export type TypeHolds = 'filesystem' | 'swap' | 'lvm' | 'raid' | 'luks' | 'boot-code' | 'reserved' | 'extended';

export interface PartitionType {
	/** The short name a spec may give, e.g. "esp", "linux", "swap". */
	readonly alias: string;
	/** The name shown, e.g. "EFI System". */
	readonly name: string;
	readonly holds: TypeHolds;
}

function t(alias: string, name: string, holds: TypeHolds = 'filesystem'): PartitionType {
	return { alias, name, holds };
}

/** GPT partition type GUIDs (upper case), checked against sfdisk --list-types --label gpt. */
const GPT_TYPES: ReadonlyMap<string, PartitionType> = new Map([
	['C12A7328-F81F-11D2-BA4B-00A0C93EC93B', t('esp', 'EFI System')],
	['21686148-6449-6E6F-744E-656564454649', t('bios-boot', 'BIOS boot', 'boot-code')],
	['0FC63DAF-8483-4772-8E79-3D69D8477DE4', t('linux', 'Linux filesystem')],
	['4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709', t('root-x86-64', 'Linux root (x86-64)')],
	['B921B045-1DF0-41C3-AF44-4C6F280D3FAE', t('root-arm64', 'Linux root (ARM-64)')],
	['44479540-F297-41B2-9AF7-D131D5F0458A', t('root-x86', 'Linux root (x86)')],
	['69DAD710-2CE4-4E3C-B16C-21A1D49ABED3', t('root-arm', 'Linux root (ARM)')],
	['72EC70A6-CF74-40E6-BD49-4BDA08E8F224', t('root-riscv64', 'Linux root (RISC-V-64)')],
	['8484680C-9521-48C6-9C11-B0720656F69E', t('usr-x86-64', 'Linux /usr (x86-64)')],
	['B0E01050-EE5F-4390-949A-9101B17104E9', t('usr-arm64', 'Linux /usr (ARM-64)')],
	['2C7357ED-EBD2-46D9-AEC1-23D437EC2BF5', t('root-verity-x86-64', 'Linux root verity (x86-64)', 'reserved')],
	['DF3300CE-D69F-4C92-978C-9BFB0F38D820', t('root-verity-arm64', 'Linux root verity (ARM-64)', 'reserved')],
	['BC13C2FF-59E6-4262-A352-B275FD6F7172', t('xbootldr', 'Linux extended boot')],
	['933AC7E1-2EB4-4F13-B844-0E14E2AEF915', t('home', 'Linux home')],
	['3B8F8425-20E0-4F3B-907F-1A25A76F98E8', t('srv', 'Linux server data')],
	['4D21B016-B534-45C2-A9FB-5C16E091FD2D', t('var', 'Linux variable data')],
	['7EC6F557-3BC5-4ACA-B293-16EF5DF639D1', t('var-tmp', 'Linux temporary data')],
	['0657FD6D-A4AB-43C4-84E5-0933C84B4F4F', t('swap', 'Linux swap', 'swap')],
	['E6D6D379-F507-44C2-A23C-238F2A3DF928', t('lvm', 'Linux LVM', 'lvm')],
	['A19D880F-05FC-4D3B-A006-743F0F84911E', t('raid', 'Linux RAID', 'raid')],
	['CA7D7CCB-63ED-4C53-861C-1742536059CC', t('luks', 'Linux LUKS', 'luks')],
	['8DA63339-0007-60C0-C436-083AC8230908', t('linux-reserved', 'Linux reserved', 'reserved')],
	['EBD0A0A2-B9E5-4433-87C0-68B6B72699C7', t('basic-data', 'Microsoft basic data')],
	['E3C9E316-0B5C-4DB8-817D-F92DF00215AE', t('ms-reserved', 'Microsoft reserved', 'reserved')],
	['DE94BBA4-06D1-4D40-A16A-BFD50179D6AC', t('windows-recovery', 'Windows recovery environment')],
	['516E7CB6-6ECF-11D6-8FF8-00022D09712B', t('freebsd-ufs', 'FreeBSD UFS')],
	['48465300-0000-11AA-AA11-00306543ECAC', t('apple-hfs', 'Apple HFS/HFS+')],
	['7C3457EF-0000-11AA-AA11-00306543ECAC', t('apple-apfs', 'Apple APFS')],
]);

/** MBR partition type bytes, checked against sfdisk --list-types --label dos. */
const MBR_TYPES: ReadonlyMap<number, PartitionType> = new Map([
	[0x01, t('fat12', 'FAT12')],
	[0x04, t('fat16-small', 'FAT16 <32M')],
	[0x05, t('extended-chs', 'Extended', 'extended')],
	[0x06, t('fat16-chs', 'FAT16')],
	[0x07, t('ntfs', 'HPFS/NTFS/exFAT')],
	[0x0b, t('fat32-chs', 'W95 FAT32')],
	[0x0c, t('fat32', 'W95 FAT32 (LBA)')],
	[0x0e, t('fat16', 'W95 FAT16 (LBA)')],
	[0x0f, t('extended', 'W95 Ext\'d (LBA)', 'extended')],
	[0x27, t('windows-recovery', 'Hidden NTFS WinRE')],
	[0x82, t('swap', 'Linux swap / Solaris', 'swap')],
	[0x83, t('linux', 'Linux')],
	[0x85, t('linux-extended', 'Linux extended', 'extended')],
	[0x8e, t('lvm', 'Linux LVM', 'lvm')],
	[0xa5, t('freebsd', 'FreeBSD')],
	[0xea, t('xbootldr', 'Linux extended boot')],
	[0xee, t('gpt', 'GPT', 'reserved')],
	[0xef, t('esp', 'EFI (FAT-12/16/32)')],
	[0xfd, t('raid', 'Linux raid autodetect', 'raid')],
]);

/** What is known of GPT type @guid (any case), if anything. */
export function gptType(guid: string): PartitionType | undefined {
	return GPT_TYPES.get(guid.toUpperCase());
}

/** What is known of MBR type @byte, if anything. */
export function mbrType(byte: number): PartitionType | undefined {
	return MBR_TYPES.get(byte);
}

/** Whether MBR type @byte is an extended partition (a chain of logical ones). */
export function isExtendedType(byte: number): boolean {
	return byte === 0x05 || byte === 0x0f || byte === 0x85;
}

/** The GPT type GUID (lower case) for an alias or a GUID; undefined for neither. */
export function gptTypeGuid(aliasOrGuid: string): string | undefined {
	for (const [guid, type] of GPT_TYPES)
		if (type.alias === aliasOrGuid)
			return guid.toLowerCase();
	return /^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/i.test(aliasOrGuid) ? aliasOrGuid.toLowerCase() : undefined;
}

/** The MBR type byte for an alias, a number, or "0x83"/"83" hex text; undefined for none. */
export function mbrTypeByte(alias: string | number): number | undefined {
	if (typeof alias === 'number')
		return Number.isInteger(alias) && alias > 0 && alias < 0x100 ? alias : undefined;
	for (const [byte, type] of MBR_TYPES)
		if (type.alias === alias)
			return byte;
	const m = /^(?:0x)?([0-9a-f]{1,2})$/i.exec(alias);
	const n = m ? parseInt(m[1]!, 16) : 0;
	return n > 0 ? n : undefined;
}
