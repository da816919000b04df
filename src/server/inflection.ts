// Naming fixes for the generated API.
// - "series" is its own singular, and "slice" is already singular (the default inflector makes
//   them "sery" and "slouse").
// - Computed columns we expose as plain lists (postgraphile-preset.ts LISTS) keep their own name
//   instead of gaining a "List" suffix: InsightView.data, not dataList.

const ALREADY_SINGULAR = /(series|slice)$/i;

export const InflectionPlugin: GraphileConfig.Plugin = {
  name: 'CodeInsightsInflectionPlugin',
  version: '1.0.0',
  inflection: {
    replace: {
      singularize(previous, _options, word) {
        return ALREADY_SINGULAR.test(word) ? word : previous!(word);
      },
      computedAttributeListField(_previous, _options, details) {
        return this.computedAttributeField(details);
      },
    },
  },
};
