/**
 * The words of MPay's announcements in the messenger app, Korean and English, merged into the `messenger`
 * namespace by texts.ts. Kept apart (and free of i18next's setup) so announcement.test.ts renders them as they are.
 * Korean device labels end in 기기, so every particle after them is the vowel form (가, 에서).
 */
export const announcementTexts = {
  en: {
    "announcement.device": '"{{name}}"',
    "announcement.deviceUnnamed": "a device with no name",
    "announcement.merchantUnnamed": "A merchant",
    "announcement.payment_request": '{{merchant}} asks {{amount}} for "{{item}}". Code {{code}}.',
    "announcement.payment_request_noItem": "{{merchant}} asks {{amount}}. Code {{code}}.",
    "announcement.payment_receipt":
      'Paid {{amount}} to {{merchant}} for "{{item}}" with your card ending in {{last4}} ({{brand}}).',
    "announcement.payment_receipt_noItem":
      "Paid {{amount}} to {{merchant}} with your card ending in {{last4}} ({{brand}}).",
    "announcement.payment_refunded": "{{merchant}} refunded {{amount}} to your card ending in {{last4}} ({{brand}}).",
    "announcement.device_pending":
      "A new device, {{device}}, was added to your MPay account. It can pay from {{date}}. If this wasn't you, cancel it before then.",
    "announcement.recovery_pending":
      "Your MPay account is being recovered on a new device, {{device}}. At {{date}} every other device will be signed out of MPay and can no longer pay. If this wasn't you, cancel it with your PIN or your card.",
    "announcement.recovery_completed": "Your MPay account was recovered on {{device}}. {{signedOut}}",
    "announcement.signedOutNone": "No other device had access.",
    "announcement.signedOut_one": "1 other device was signed out and can no longer pay.",
    "announcement.signedOut_other": "{{count}} other devices were signed out and can no longer pay.",
    "announcement.pin_reset_pending":
      "A reset of your MPay PIN was requested. The new PIN takes effect at {{date}}. If this wasn't you, cancel it with your current PIN on any of your devices.",
    "announcement.pin_reset_applied":
      "Your MPay PIN was reset. Use the new PIN from now on. If this wasn't you, recover your account with your card.",
    "announcement.pin_changed":
      "Your MPay PIN was changed. If this wasn't you, recover your account on your phone with your card and your old PIN before {{date}}: that signs every other device out.",
    "announcement.card_enrolled":
      "A card ending in {{last4}} ({{brand}}) was added to MPay on {{device}}. If this wasn't you, remove it.",
    "announcement.device_revoked": "{{device}} was removed from your MPay account and can no longer pay.",
    "announcement.change_canceled": "The pending {{change}} was canceled. Your MPay account stays as it was.",
    "announcement.brand.visa": "Visa",
    "announcement.brand.mastercard": "Mastercard",
    "announcement.brand.amex": "American Express",
    "announcement.brand.local": "domestic card",
    "announcement.change.device": "new device",
    "announcement.change.recovery": "account recovery",
    "announcement.change.pin_reset": "PIN reset",
    "announcement.change.card": "new card",
    "announcement.action.pay": "Pay",
    "announcement.action.cancel": "Not me — cancel",
    "announcement.action.removeCard": "Not me — remove card",
    "announcement.action.devices": "Review devices",
    "announcement.action.receipt": "Receipt",
  },
  ko: {
    "announcement.device": '"{{name}}" 기기',
    "announcement.deviceUnnamed": "이름 없는 기기",
    "announcement.merchantUnnamed": "가맹점",
    "announcement.payment_request": '{{merchant}}에서 "{{item}}" {{amount}} 결제를 요청했습니다. 확인 코드 {{code}}.',
    "announcement.payment_request_noItem": "{{merchant}}에서 {{amount}} 결제를 요청했습니다. 확인 코드 {{code}}.",
    "announcement.payment_receipt":
      '{{merchant}}에서 "{{item}}" {{amount}}이 결제되었습니다. 결제 카드: {{brand}} 끝자리 {{last4}}.',
    "announcement.payment_receipt_noItem":
      "{{merchant}}에서 {{amount}}이 결제되었습니다. 결제 카드: {{brand}} 끝자리 {{last4}}.",
    "announcement.payment_refunded":
      "{{merchant}}에서 {{amount}}을 환불했습니다. 환불 카드: {{brand}} 끝자리 {{last4}}.",
    "announcement.device_pending":
      "MPay 계정에 {{device}}가 새로 추가되었습니다. {{date}}부터 이 기기로 결제할 수 있습니다. 본인이 아니면 그 전에 취소하세요.",
    "announcement.recovery_pending":
      "{{device}}에서 MPay 계정 복구가 진행 중입니다. {{date}}에 다른 모든 기기가 MPay에서 로그아웃되어 더 이상 결제할 수 없습니다. 본인이 아니면 PIN이나 카드로 취소하세요.",
    "announcement.recovery_completed": "{{device}}에서 MPay 계정이 복구되었습니다. {{signedOut}}",
    "announcement.signedOutNone": "다른 기기에는 접근 권한이 없었습니다.",
    "announcement.signedOut_other": "다른 기기 {{count}}대가 로그아웃되어 더 이상 결제할 수 없습니다.",
    "announcement.pin_reset_pending":
      "MPay PIN 재설정이 요청되었습니다. 새 PIN은 {{date}}부터 적용됩니다. 본인이 아니면 내 기기 어디서든 현재 PIN으로 취소하세요.",
    "announcement.pin_reset_applied":
      "MPay PIN이 재설정되었습니다. 이제 새 PIN을 사용하세요. 본인이 아니면 카드로 계정을 복구하세요.",
    "announcement.pin_changed":
      "MPay PIN이 변경되었습니다. 본인이 아니면 {{date}} 전에 휴대폰에서 카드와 이전 PIN으로 계정을 복구하세요. 복구하면 다른 모든 기기가 로그아웃됩니다.",
    "announcement.card_enrolled":
      "{{device}}에서 끝자리 {{last4}}인 {{brand}} 카드가 MPay에 추가되었습니다. 본인이 아니면 카드를 삭제하세요.",
    "announcement.device_revoked": "{{device}}가 MPay 계정에서 삭제되어 더 이상 결제할 수 없습니다.",
    "announcement.change_canceled": "대기 중이던 {{change}} 요청이 취소되었습니다. MPay 계정은 그대로입니다.",
    "announcement.brand.visa": "비자",
    "announcement.brand.mastercard": "마스터카드",
    "announcement.brand.amex": "아메리칸 익스프레스",
    "announcement.brand.local": "국내",
    "announcement.change.device": "새 기기 등록",
    "announcement.change.recovery": "계정 복구",
    "announcement.change.pin_reset": "PIN 재설정",
    "announcement.change.card": "새 카드 등록",
    "announcement.action.pay": "결제하기",
    "announcement.action.cancel": "본인 아님 — 취소",
    "announcement.action.removeCard": "본인 아님 — 카드 삭제",
    "announcement.action.devices": "기기 확인",
    "announcement.action.receipt": "영수증 보기",
  },
} as const;
