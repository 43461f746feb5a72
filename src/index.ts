/**
 * `syncmanager`: the client and the server in one import, as Python's `multiprocessing.managers` offers
 * `BaseManager` for both sides. `syncmanager/client` and `syncmanager/server` load one side only.
 */

export * from './client';
export * from './server';
