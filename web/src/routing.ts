import { useEffect, useState } from 'react';

/** The dashboard's hash routes: `#/webhooks`, `#/webhooks/<id>`, `#/deliveries?webhook=…`. */
export interface Route {
  path: string[];
  query: URLSearchParams;
}

function current(): Route {
  const [path = '', search = ''] = location.hash.replace(/^#\/?/, '').split('?');
  return { path: path.split('/').filter(Boolean), query: new URLSearchParams(search) };
}

/** The route shown now, following the address bar. */
export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const onChange = () => setRoute(current());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** Goes to a route (`#/deliveries?webhook=…`). */
export function go(hash: string): void {
  location.hash = hash;
}
