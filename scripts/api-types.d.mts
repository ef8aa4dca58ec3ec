export const SCHEMA_FILE: string;
export function renderApiTypes(document: unknown): Promise<string>;
