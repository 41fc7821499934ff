// Who is signed in, for every screen: the tenant, the role, and what the key may do, so
// that a screen offers only what the key may do (a VIEWER sees no New, Delete or Re-trigger).
import { createContext, useContext } from 'react';
import { graphql, type ResultOf } from './graphql.ts';

/** Who is signed in; `portal`: a portal session (a vendor's embedded dashboard), when it ends, the vendor's name and colour. */
export const VIEWER_QUERY = graphql(`{ viewer { role operator permissions tenant { name environment } apiKey { name prefix } portal { expiresAt brandName brandColor } } }`);
export type Viewer = ResultOf<typeof VIEWER_QUERY>['viewer'];
export type Permission = Viewer['permissions'][number];

export const ViewerContext = createContext<Viewer | null>(null);

/** Whether the signed-in key may do this. */
export function useCan(permission: Permission): boolean {
  return useContext(ViewerContext)?.permissions.includes(permission) ?? false;
}

/** Why a control is not offered, for its title: "Your VIEWER key may not …". */
export function useNotAllowed(permission: Permission, what: string): string | undefined {
  const viewer = useContext(ViewerContext);
  if (viewer?.permissions.includes(permission)) return undefined;
  return `Your ${viewer?.role ?? 'operator'} ${viewer?.portal ? 'access' : 'key'} may not ${what}.`;
}
