import { useEffect, useState } from 'react';
import { errorText } from './api.ts';

/** A first-cut view: the API's JSON for lists without a dedicated page yet (releases, vulnerabilities, audit). */
export function JsonPage(props: { title: string; load: () => Promise<unknown>; verify?: () => Promise<unknown> }) {
  const [data, setData] = useState<unknown>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [verified, setVerified] = useState<string | null>(null);
  useEffect(() => {
    setData(undefined);
    setError(null);
    props.load().then(setData, (e: unknown) => setError(errorText(e)));
  }, [props.load]);
  const verify = props.verify;
  return (
    <section>
      <h1>{props.title}</h1>
      {verify && <p><button type="button" onClick={() => void verify().then((r) => setVerified(JSON.stringify(r)), (e: unknown) => setVerified(errorText(e)))}>Verify the hash chain</button> {verified && <output>{verified}</output>}</p>}
      {error && <p role="alert" className="error">{error}</p>}
      {data === undefined && !error && <p role="status">Loading…</p>}
      {data !== undefined && <pre className="json">{JSON.stringify(data, null, 2).slice(0, 50_000)}</pre>}
    </section>
  );
}
