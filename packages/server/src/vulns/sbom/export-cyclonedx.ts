import * as CDX from '@cyclonedx/cyclonedx-library';
import { parsePurl } from '../match/package-key.ts';
import type { SbomComponent } from './sbom-document.ts';

const TYPES = new Set<string>(Object.values(CDX.Enums.ComponentType));

/**
 * A firmware's SBOM as CycloneDX 1.6 JSON, built with the CycloneDX library's models and
 * serializer. FDA fields go out as `fda:supportLevel` / `fda:endOfSupport` properties.
 */
export function exportCycloneDx16(opts: { model: string; firmwareVersion: string; components: readonly SbomComponent[]; timestamp: Date }): string {
  const bom = new CDX.Models.Bom();
  bom.metadata.timestamp = opts.timestamp;
  bom.metadata.component = new CDX.Models.Component(CDX.Enums.ComponentType.Firmware, opts.model, { version: opts.firmwareVersion, bomRef: `firmware:${opts.model}@${opts.firmwareVersion}` });
  bom.metadata.tools.components.add(new CDX.Models.Component(CDX.Enums.ComponentType.Application, 'medtrust'));
  const seen = new Set<string>();
  for (const c of opts.components) {
    let ref = c.ref;
    for (let i = 2; seen.has(ref); i++) ref = `${c.ref}#${i}`;
    seen.add(ref);
    const type = c.type && TYPES.has(c.type) ? (c.type as CDX.Enums.ComponentType) : CDX.Enums.ComponentType.Library;
    const props = new CDX.Models.PropertyRepository();
    if (c.supportLevel) props.add(new CDX.Models.Property('fda:supportLevel', c.supportLevel));
    if (c.endOfSupport) props.add(new CDX.Models.Property('fda:endOfSupport', c.endOfSupport));
    bom.components.add(new CDX.Models.Component(type, c.name, {
      bomRef: ref,
      ...(c.version ? { version: c.version } : {}),
      ...(c.purl && parsePurl(c.purl) ? { purl: c.purl } : {}),
      ...(c.cpe ? { cpe: c.cpe } : {}),
      ...(c.supplier ? { supplier: new CDX.Models.OrganizationalEntity({ name: c.supplier }) } : {}),
      properties: props,
    }));
  }
  const serializer = new CDX.Serialize.JsonSerializer(new CDX.Serialize.JSON.Normalize.Factory(CDX.Spec.Spec1dot6));
  return serializer.serialize(bom, { sortLists: true, space: 2 });
}
