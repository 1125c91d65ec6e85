const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';

/** A bare lowercase DNS name: no scheme, port or path. */
export const HOSTNAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
/** A hostname a route may name, optionally a `*.` wildcard over its subdomains. */
export const ROUTE_HOST = new RegExp(`^(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*$`);
export const MAX_HOSTNAME_CHARS = 253;
