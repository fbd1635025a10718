/** Task lifecycle: `open → closing → closed`. A task is `closed` once every credential is revoked or expired. */
export type TaskState = "open" | "closing" | "closed";

/** Why a task ended: closed by a caller, its deadline, an emergency revocation, or its parent ending. */
export type CloseReason = "closed" | "deadline" | "revoked" | "parent_closed";

export interface Initiator {
  /** The human on whose behalf the task runs. */
  subject: string;
  /** True when a user ID token for `subject` was verified at open. */
  verified: boolean;
}

export interface Task {
  id: string;
  state: TaskState;
  /** Principal that opened the task. */
  owner: string;
  /** Principal that may request credentials under it. */
  agent: string;
  initiator: Initiator;
  intent: string;
  labels: Record<string, string>;
  parentId: string | null;
  rootId: string;
  depth: number;
  /** Profiles credentials may come from; null = any the policy allows. */
  profiles: string[] | null;
  /** Epoch ms. */
  createdAt: number;
  deadline: number;
  closingAt: number | null;
  closedAt: number | null;
  closeReason: CloseReason | null;
  /** Owners and agents of this task and its ancestors: who may see and close it. */
  related: string[];
  /** Agents of the ancestor tasks, outermost first (the `act` chain of delegated credentials). */
  actChain: string[];
}
