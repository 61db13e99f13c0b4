/**
 * Thrown by `acquireLock` when the thread does not exist in the project. The platform always
 * gets or creates the thread before it asks for the lock, so this only happens when a delete
 * raced the lock request; the run must not start on a thread that is gone.
 */
export class ThreadNotFoundError extends Error {
  readonly code = "thread_not_found";
  constructor(
    readonly projectId: string,
    readonly threadId: string,
  ) {
    super(`thread '${threadId}' does not exist in project '${projectId}'`);
    this.name = "ThreadNotFoundError";
  }
}
