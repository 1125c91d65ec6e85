/**
 * The schema this build was written against: the number of its newest migration. A sidecar
 * refuses any other `user_version`; a test keeps this equal to the newest file in migrations/.
 */
export const SCHEMA_VERSION = 11;
