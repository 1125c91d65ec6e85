/** Where `bot-bottle broker` listens unless told otherwise, kept apart so its command tree loads no protocol code. */
export const DEFAULT_BROKER_PORT = 9110;
export const DEFAULT_BROKER_HOST = '127.0.0.1';
