export function webIsStale(): boolean;
export function buildWebIfStale(options?: { quiet?: boolean }): boolean;
