import type { ModelPrice } from "../config/agent-config.js";
import type { UsageEvent } from "../core/agent-event.js";

/**
 * The cost in US dollars of one usage event by the price table (`[prices."<model>"]`, dollars per
 * million tokens), for the event's model or else the agent's configured one; undefined when the
 * table has neither (a subscription user sees no dollar cost).
 */
export function priceOf(prices: Readonly<Record<string, ModelPrice>>, configuredModel: string | undefined): ((usage: UsageEvent) => number) | undefined {
  if (Object.keys(prices).length === 0) return undefined;
  return (usage) => {
    const price = (usage.model && prices[usage.model]) || (configuredModel && prices[configuredModel]);
    if (!price) return 0;
    return (
      (usage.inputTokens * price.input + usage.outputTokens * price.output + (usage.cacheReadTokens ?? 0) * price.cacheRead + (usage.cacheWriteTokens ?? 0) * price.cacheWrite) /
      1_000_000
    );
  };
}
