import { type FormEvent, useState } from 'react';
import { api, type Binding, errorText, type Patient } from './api.ts';
import { Link } from './link.tsx';

/**
 * Clinicians only (patient:read): find a patient by MRN, see who they are and which devices are
 * bound to them, and open a device's live vitals. Every read is audited by the API; nothing is
 * listed in bulk, so PHI appears only for the patient asked for.
 */
export function PatientsPage() {
  const [mrn, setMrn] = useState('');
  const [patient, setPatient] = useState<Patient | null>(null);
  const [bindings, setBindings] = useState<Binding[]>([]);
  const [error, setError] = useState<string | null>(null);
  const find = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setPatient(null);
    try {
      const { id } = await api.patientByMrn(mrn.trim());
      const [p, b] = await Promise.all([api.patient(id), api.bindings(id)]);
      setPatient(p);
      setBindings(b.bindings);
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <section>
      <h1>Patients</h1>
      <form className="filters" aria-label="Find a patient" onSubmit={(e) => void find(e)}>
        <label>MRN <input required value={mrn} onChange={(e) => setMrn(e.target.value)} autoComplete="off" /></label>
        <button type="submit">Find</button>
      </form>
      {error && <p role="alert" className="error">{error}</p>}
      {patient && (
        <article aria-labelledby="patient-h">
          <h2 id="patient-h">{patient.family}, {patient.given.join(' ')}</h2>
          <dl className="facts"><dt>MRN</dt><dd>{patient.mrn}</dd><dt>Born</dt><dd>{patient.birthDate}</dd></dl>
          <h3>Devices</h3>
          {bindings.length === 0 ? <p>No device bound.</p> : (
            <ul>{bindings.map((b) => (
              <li key={b.id}><Link to={`/devices/${encodeURIComponent(b.deviceId)}`}>{b.deviceId}</Link> — from {new Date(b.fromMs).toLocaleString()}{b.toMs === null ? ' (current)' : ` to ${new Date(b.toMs).toLocaleString()}`}</li>
            ))}</ul>
          )}
        </article>
      )}
    </section>
  );
}
