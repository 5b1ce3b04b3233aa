import { Registry } from 'prom-client';

/** The two exposition formats /metrics speaks: OpenMetrics 1.0.0 and the classic Prometheus text 0.0.4. */
export type ExpositionFormat = 'openmetrics' | 'text';

/** The Content-Type of each format, as prom-client's Registry names them. */
export const EXPOSITION_CONTENT_TYPE: Readonly<Record<ExpositionFormat, string>> = {
  openmetrics: Registry.OPENMETRICS_CONTENT_TYPE,
  text: Registry.PROMETHEUS_CONTENT_TYPE,
};

/**
 * The format a scraper's Accept header asks for. OpenMetrics when the header names
 * `application/openmetrics-text` (version 1.0.0 or none: the older 0.0.1 draft is not what
 * prom-client writes) with a quality at least that of the text format; the classic text
 * otherwise, including no header and a bare `*\/*` (curl, older scrapers). Prometheus sends
 * `application/openmetrics-text;version=1.0.0,...,text/plain;version=0.0.4;q=0.5,*\/*;q=0.1`.
 */
export function negotiateExposition(accept: string | undefined): ExpositionFormat {
  let openMetrics = 0;
  let text = 0;
  for (const range of (accept ?? '').split(',')) {
    const [type = '', ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    const param = (key: string): string | undefined =>
      params.find((p) => p.startsWith(`${key}=`))?.slice(key.length + 1);
    const q = Number(param('q') ?? 1);
    if (!Number.isFinite(q)) continue;
    if (type === 'application/openmetrics-text' && [undefined, '1.0.0'].includes(param('version')))
      openMetrics = Math.max(openMetrics, q);
    else if (type === 'text/plain' || type === 'text/*' || type === '*/*') text = Math.max(text, q);
  }
  return openMetrics > 0 && openMetrics >= text ? 'openmetrics' : 'text';
}
