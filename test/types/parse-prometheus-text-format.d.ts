declare module "parse-prometheus-text-format" {
  /** One metric family as the parser returns it (gauges: value as a string). */
  export interface MetricFamily {
    name: string;
    help: string;
    type: string;
    metrics: { value: string; labels?: Record<string, string> }[];
  }
  export default function parsePrometheusTextFormat(text: string): MetricFamily[];
}
