/** The package version, recorded in history entries and printed by --version. */
export const VERSION = '0.1.0';
