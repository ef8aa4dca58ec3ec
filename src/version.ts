/** The release, shown by `coffer --version` and in the OpenAPI document. */
export const VERSION = '0.1.0';
