/**
 * Ids and patterns every part of Bulkhead agrees on: the fleet file's schema, the Lambda
 * handlers, the console API and the CLI read them from here and nowhere else.
 */

/**
 * A site id: a DNS label of 2 to 24 characters that starts with a letter and has no `-` at
 * its end or twice in a row. With `-` mapped to `_` it is also a safe SQL identifier
 * (`site_<id>`), and it fits every AWS name Bulkhead builds from it.
 */
export const SITE_ID_PATTERN = /^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){1,23}$/;

/** A cell id: a letter, then up to 9 lowercase letters and digits. */
export const CELL_ID_PATTERN = /^[a-z][a-z0-9]{0,9}$/;

/** An environment name (prod, staging, example): 2 to 16 characters, shaped like a site id. */
export const ENV_NAME_PATTERN = /^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){1,15}$/;

/** An image digest as ECR reports it: `sha256:` and 64 lowercase hex digits. */
export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** An incident id as the response plane writes it (and the console accepts). */
export const INCIDENT_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
