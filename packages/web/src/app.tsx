import { useCallback, useEffect, useState } from 'react';
import { ApiError, api, type Me } from './api.ts';
import { AlertsPage } from './alerts-page.tsx';
import { AuditPage } from './audit-page.tsx';
import { CertificatesPage } from './certificates-page.tsx';
import { DevicePage } from './device-page.tsx';
import { FleetPage } from './fleet-page.tsx';
import { Link } from './link.tsx';
import { LoginPage } from './login-page.tsx';
import { navFor } from './nav.ts';
import { PatientsPage } from './patients-page.tsx';
import { PoliciesPage } from './policies-page.tsx';
import { ReleasesPage } from './releases-page.tsx';
import { navigate, usePath } from './router.ts';
import { VulnerabilitiesPage } from './vulnerabilities-page.tsx';

type Session = { readonly kind: 'loading' } | { readonly kind: 'anonymous' } | { readonly kind: 'user'; readonly me: Me };

/** The shell: who is logged in (GET /auth/me), role-based navigation, and the current view. */
export function App() {
  const path = usePath();
  const [session, setSession] = useState<Session>({ kind: 'loading' });
  const refresh = useCallback(async () => {
    try {
      setSession({ kind: 'user', me: await api.me() });
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) setSession({ kind: 'anonymous' });
      else setSession({ kind: 'anonymous' });
    }
  }, []);
  useEffect(() => void refresh(), [refresh]);

  if (session.kind === 'loading') return <main className="page"><p role="status">Loading…</p></main>;
  if (session.kind === 'anonymous') return <LoginPage onLoggedIn={async () => { await refresh(); navigate('/'); }} />;
  const items = navFor(session.me.role);
  const first = items[0]?.path ?? '/';
  if (path === '/' || path === '/login') {
    if (first !== '/') queueMicrotask(() => navigate(first));
  }
  const logout = async () => {
    await api.logout().catch(() => undefined);
    setSession({ kind: 'anonymous' });
    navigate('/login');
  };
  return (
    <>
      <a className="skip" href="#content">Skip to content</a>
      <header className="top">
        <span className="brand">MedTrust</span>
        <nav aria-label="Main">
          <ul>{items.map((i) => <li key={i.path}><Link to={i.path} current={path.startsWith(i.path)}>{i.label}</Link></li>)}</ul>
        </nav>
        <span className="who">{session.me.role}</span>
        <button type="button" onClick={() => void logout()}>Log out</button>
      </header>
      <main id="content" className="page" tabIndex={-1}>{view(path, session.me)}</main>
    </>
  );
}

function view(path: string, me: Me) {
  const device = /^\/devices\/([^/]+)$/.exec(path);
  if (device?.[1]) return <DevicePage id={decodeURIComponent(device[1])} role={me.role} />;
  switch (path) {
    case '/fleet': return <FleetPage title="Fleet" role={me.role} />;
    case '/certificates': return <CertificatesPage role={me.role} />;
    case '/vitals': return <FleetPage title="Patients’ vitals" hint="Open a device to see its live vitals." />;
    case '/patients': return <PatientsPage />;
    case '/alerts': return <AlertsPage role={me.role} />;
    case '/releases': return <ReleasesPage role={me.role} />;
    case '/vulnerabilities': return <VulnerabilitiesPage role={me.role} />;
    case '/policies': return <PoliciesPage />;
    case '/audit': return <AuditPage tenantKind={me.tenantKind} />;
    default: return <p>Choose a view from the navigation.</p>;
  }
}
