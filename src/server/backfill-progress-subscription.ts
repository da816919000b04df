// Subscription.backfillProgress(viewId): a push for backfill progress instead of polling. The
// database NOTIFYs insight_view_progress:<view id> when a backfill of one of the view's series
// starts, commits a page or ends (migration 000009). Each event carries the view, read as the
// subscriber (row-level security applies: a view you may not see is null), so clients select the
// numbers they want from it, e.g. `insightView { loading seriesStatus { percentComplete } }`.
// The first event is sent at once, with the current state. Subscribing to a view you may not see
// is refused: its events alone would tell when a private backfill progresses.
import { jsonParse } from 'postgraphile/@dataplan/json';
import { context, lambda, listen, SafeError } from 'postgraphile/grafast';
import { extendSchema, gql } from 'postgraphile/utils';

export const BackfillProgressSubscriptionPlugin = extendSchema((build) => {
  const views = build.input.pgRegistry.pgResources.insight_view!;
  return {
    typeDefs: gql`
      """
      An insight view whose backfill progress changed.
      """
      type InsightViewProgressEvent {
        """
        The view, as you may see it (null without a grant): read its seriesStatus and loading.
        """
        insightView: InsightView
      }
      extend type Subscription {
        """
        Sends the view when a backfill of one of its series starts, commits a page or ends; the first event comes at once.
        """
        backfillProgress(viewId: Int!): InsightViewProgressEvent
      }
    `,
    objects: {
      Subscription: {
        plans: {
          backfillProgress: {
            subscribePlan(_$root, { $viewId }) {
              // Read as the subscriber: null when row-level security hides the view.
              const $id = $viewId!;
              const $visibleId = views.get({ id: $id }).get('id');
              const $topic = lambda([$id, $visibleId], ([id, visibleId]): string => {
                if (visibleId == null) throw new SafeError(`no insight view ${Number(id)} that you may see`);
                return `insight_view_progress:${Number(id)}`;
              });
              const $initial = lambda($id, (id) => JSON.stringify({ view_id: Number(id) }));
              return listen(context().get('pgSubscriber'), $topic, jsonParse, $initial);
            },
            plan($event) {
              return $event;
            },
          },
        },
      },
      InsightViewProgressEvent: {
        plans: {
          insightView($event) {
            return views.get({ id: ($event as any).get('view_id') });
          },
        },
      },
    },
  };
});
