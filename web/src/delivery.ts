// A delivery (an instance) as the grid and its detail show it.
export const ROW = `id status attempts held entityId createdAt updatedAt nextAttemptAt lastStatusCode lastMessage lastErrorKind lastDurationMs webhook { id label } event { id type }`;

export interface Row {
  id: string;
  status: string;
  attempts: number;
  held: boolean;
  entityId: string;
  createdAt: string;
  updatedAt: string;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastMessage: string | null;
  lastErrorKind: string | null;
  lastDurationMs: number | null;
  webhook: { id: string; label: string };
  event: { id: string; type: string };
}
