// How PostGraphile fetches the sample times of a chart line (insight_data_series.times). A dashboard
// read carries thousands of them (10 views x 5 lines x 90 samples in bench:api). PostGraphile's
// default for a timestamptz[] formats each element with to_char in a subquery, and nests the
// resulting text array, quoted and escaped, inside the text arrays of the enclosing line, view and
// dashboard. Here PostgreSQL's JSON encoder writes them (ISO 8601, as to_char does), without the
// quotes that every enclosing array would escape again: "[2024-01-07T00:00:00+00:00,...]". The
// GraphQL type stays [Datetime]; only the transport changes. About a third less PostgreSQL time
// for a dashboard read (docs/api.md, "Performance").
import { sql } from 'postgraphile/pg-sql2';
import type { PgCodec } from 'postgraphile/@dataplan/pg';

/** The composite type and attribute this applies to. */
const TYPE = { schema: 'public', name: 'insight_data_series', attribute: 'times' } as const;

export const SampleTimesCodecPlugin: GraphileConfig.Plugin = {
  name: 'CodeInsightsSampleTimesCodecPlugin',
  version: '1.0.0',
  gather: {
    hooks: {
      pgCodecs_recordType_spec(_info, { pgClass, spec }) {
        if (pgClass.relname !== TYPE.name || pgClass.getNamespace()?.nspname !== TYPE.schema) return;
        const attribute = spec.attributes[TYPE.attribute];
        if (!attribute)
          throw new Error(`${TYPE.name}.${TYPE.attribute} is missing: update src/server/sample-times-codec.ts`);
        const list = attribute.codec as PgCodec;
        if (!list.arrayOfCodec || list.arrayOfCodec.name !== 'timestamptz') {
          throw new Error(
            `${TYPE.name}.${TYPE.attribute} is no longer timestamptz[]: update src/server/sample-times-codec.ts`,
          );
        }
        const codec: PgCodec = {
          ...list,
          name: 'insightSampleTimes',
          castFromPg: (fragment) => sql`replace(array_to_json(${fragment})::text, ${sql.literal('"')}, '')`,
          listCastFromPg: undefined,
          fromPg: (value: string) => (value.length <= 2 ? [] : value.slice(1, -1).split(',')),
        };
        spec.attributes[TYPE.attribute] = { ...attribute, codec };
      },
    },
  },
};
