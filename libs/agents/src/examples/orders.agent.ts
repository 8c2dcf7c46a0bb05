import { z } from 'zod';
import { defineAgent } from '../sdk/agent-definition';
import { ApprovalRefused } from '../sdk/errors';

/** Stands in for your order system: replace the map and the refund with calls to it. */
const ORDERS = new Map([
  ['10042', { status: 'delivered', amount: 59.9 }],
  ['10043', { status: 'in transit', amount: 12.5 }],
]);

export const ordersAgent = defineAgent({
  name: 'orders', // the BullMQ job name: never rename a live one
  description: 'Looks up your orders and refunds them, with your approval.',
  input: z.object({ question: z.string() }), // invalid input fails the job for good, with no event
  plan: { intents: ['question'], order: 5 }, // the supervisor runs it for questions, before knowledge (10)
  interactive: true, // it may wait for the user: its step gets HUMAN_RESPONSE_TIMEOUT_MS more
  async run(ctx, { question }) {
    if (!/\b(?:order|refund)\b/i.test(question)) return { notes: [] }; // not for this agent
    await ctx.status('retrieving', 'Looking up the order…');
    const orderId = /\b\d{5}\b/.exec(question)?.[0] ?? (await ctx.ask('Which order number?')).trim();
    const order = await ctx.tool('order_lookup', { orderId }, async () => ORDERS.get(orderId) ?? null);
    if (!order) return { notes: [`There is no order ${orderId}.`] };
    await ctx.thinking(`Order ${orderId} is ${order.status}.`, { full: { order } });
    if (!/\brefund\b/i.test(question)) return { notes: [`Order ${orderId} is ${order.status}.`] };
    try {
      // approval: approval_requested first; the tool runs only if the user approves.
      const refund = await ctx.tool('refund', { orderId }, async () => ({ refundId: `rf_${orderId}`, amount: order.amount }), {
        approval: { action: `Refund order ${orderId}`, details: { amount: order.amount } },
      });
      return { notes: [`Order ${orderId} is refunded (${refund.refundId}, ${refund.amount} USD).`] };
    } catch (err) {
      if (err instanceof ApprovalRefused) return { notes: ['All right, nothing was refunded.'] };
      throw err; // a ToolError: its tool_completed { ok: false, error } is already out
    }
  },
  summarize: ({ notes }) => notes[0],
});
