export function CheckoutPage({ paymentId }: { paymentId: string }) {
  return <main>Checkout {paymentId}</main>;
}
