/**
 * The hosted checkout's table: the pushes it claimed, one row per limit (service-kit's LimitSlots), per phone
 * number (as a hash), per client address and per payment; swept once older than every window (push-limits.ts).
 */
import { limitSlotsTable } from "@mpay/service-kit";

export const checkoutPushLimitSlots = limitSlotsTable("checkout_push_limit_slots");
