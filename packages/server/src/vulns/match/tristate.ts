/** Kleene three-valued logic: a match may be decidable (`yes`/`no`) or not (`unknown`). */
export type Tri = 'yes' | 'no' | 'unknown';

export function triOr(xs: Iterable<Tri>): Tri {
  let unknown = false;
  for (const x of xs) {
    if (x === 'yes') return 'yes';
    if (x === 'unknown') unknown = true;
  }
  return unknown ? 'unknown' : 'no';
}

export function triAnd(xs: Iterable<Tri>): Tri {
  let unknown = false;
  for (const x of xs) {
    if (x === 'no') return 'no';
    if (x === 'unknown') unknown = true;
  }
  return unknown ? 'unknown' : 'yes';
}

export function triNot(x: Tri): Tri {
  return x === 'yes' ? 'no' : x === 'no' ? 'yes' : 'unknown';
}
