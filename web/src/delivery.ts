// A delivery (an instance) as the grid and its detail show it.
import { graphql, type ResultOf } from './graphql.ts';

export const ROW = graphql(`
  fragment Row on Instance {
    id status attempts held entityId createdAt updatedAt nextAttemptAt lastStatusCode lastMessage lastErrorKind lastDurationMs webhook { id label } event { id type }
  }
`);
export type Row = ResultOf<typeof ROW>;
