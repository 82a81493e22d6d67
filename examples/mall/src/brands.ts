/**
 * The shops this example runs as. One code base, one brand per process (MALL_BRAND): `npm start` runs Demo Mall on
 * 4400 and Hanok Tea House on 4401, each with its own MPay merchant account, database and webhook endpoint, so two
 * shops share one pay server as two real merchants would.
 */
import type { Illustration } from "./illustrations.ts";

export interface Product {
  /** Stable id in URLs, carts and orders. */
  sku: string;
  name: string;
  /** A line under the name (size, origin, English name). */
  detail: string;
  description: string;
  /** Whole won: KRW has no minor unit, so MPay's amounts in KRW are won too. */
  price: number;
  picture: Illustration;
}

export interface Brand {
  id: string;
  name: string;
  /** One line under the name in the header. */
  tagline: string;
  colors: { primary: string; primaryText: string; accent: string; background: string };
  defaultPort: number;
  products: readonly Product[];
}

export const BRANDS: Readonly<Record<string, Brand>> = {
  "demo-mall": {
    id: "demo-mall",
    name: "Demo Mall",
    tagline: "오늘 주문하면 내일 도착 · 3만원 이상 무료배송",
    colors: { primary: "#1b5fc9", primaryText: "#ffffff", accent: "#ff6b35", background: "#f5f7fa" },
    defaultPort: 4400,
    products: [
      {
        sku: "jeju-tangerines",
        name: "제주 감귤 5kg",
        detail: "Jeju tangerines · 로얄과 M",
        description: "서귀포 농가에서 아침에 딴 감귤을 그날 보내드립니다. 새콤달콤, 껍질이 얇아요.",
        price: 35_000,
        picture: { kind: "fruit", color: "#ff9f1c", leaf: "#2a9d3f" },
      },
      {
        sku: "ceramic-mug",
        name: "도자기 머그컵",
        detail: "Ceramic mug · 350ml",
        description: "이천 공방에서 빚은 머그컵. 전자레인지와 식기세척기에 써도 괜찮아요.",
        price: 18_000,
        picture: { kind: "mug", color: "#5e81ac", leaf: "#eceff4" },
      },
      {
        sku: "canvas-tote",
        name: "캔버스 에코백",
        detail: "Canvas tote · 12oz",
        description: "장보기에도 출근길에도. 두꺼운 면 캔버스에 안주머니가 있어요.",
        price: 12_900,
        picture: { kind: "tote", color: "#e9c46a", leaf: "#264653" },
      },
      {
        sku: "wool-socks",
        name: "울 양말 3켤레",
        detail: "Wool socks · 230–260mm",
        description: "메리노 울이 섞인 도톰한 겨울 양말 세 켤레 세트.",
        price: 15_000,
        picture: { kind: "socks", color: "#e76f51", leaf: "#f4a261" },
      },
      {
        sku: "dot-notebook",
        name: "도트 노트 A5",
        detail: "Dot-grid notebook · 160쪽",
        description: "만년필에도 번지지 않는 100g 종이. 누워서 펼쳐지는 실 제본.",
        price: 9_800,
        picture: { kind: "notebook", color: "#2a9d8f", leaf: "#ffffff" },
      },
      {
        sku: "folding-umbrella",
        name: "3단 자동 우산",
        detail: "Folding umbrella · 8살",
        description: "버튼 하나로 펴고 접는 자동 우산. 바람에 뒤집혀도 다시 돌아와요.",
        price: 24_000,
        picture: { kind: "umbrella", color: "#6a4c93", leaf: "#ffca3a" },
      },
      {
        sku: "strawberry-jam",
        name: "논산 딸기잼 500g",
        detail: "Strawberry jam · 과육 70%",
        description: "논산 설향 딸기를 설탕만 넣고 졸였어요. 빵에도 요거트에도.",
        price: 8_900,
        picture: { kind: "jar", color: "#d62839", leaf: "#f2f2f2" },
      },
      {
        sku: "steel-tumbler",
        name: "보온 텀블러 470ml",
        detail: "Insulated tumbler",
        description: "6시간 따뜻하고 12시간 시원해요. 한 손으로 여는 뚜껑.",
        price: 27_000,
        picture: { kind: "tin", color: "#4a4e69", leaf: "#c9ada7" },
      },
    ],
  },
  "tea-house": {
    id: "tea-house",
    name: "Hanok Tea House",
    tagline: "하동 야생차와 다기 · 한옥 찻집에서 보내드립니다",
    colors: { primary: "#3d5a3c", primaryText: "#ffffff", accent: "#b5651d", background: "#f7f3ea" },
    defaultPort: 4401,
    products: [
      {
        sku: "hadong-green-tea",
        name: "하동 우전 녹차 50g",
        detail: "First-flush green tea · 2026 햇차",
        description: "곡우 전에 딴 첫물 찻잎. 부드럽고 고소한 맛, 70도 물에 우려 주세요.",
        price: 32_000,
        picture: { kind: "tin", color: "#6b8f47", leaf: "#f1e3c6" },
      },
      {
        sku: "yuja-tea",
        name: "고흥 유자차 1kg",
        detail: "Yuja marmalade tea",
        description: "껍질째 채 썬 유자를 설탕에 재웠어요. 따뜻한 물에 두세 숟가락.",
        price: 19_500,
        picture: { kind: "jar", color: "#f4c430", leaf: "#7a9a3a" },
      },
      {
        sku: "celadon-tea-set",
        name: "청자 다기 세트",
        detail: "Celadon tea set · 2인",
        description: "찻주전자 하나와 찻잔 둘. 강진 가마의 비색 청자.",
        price: 89_000,
        picture: { kind: "teapot", color: "#8fb9a8", leaf: "#4f7d6e" },
      },
      {
        sku: "yakgwa",
        name: "수제 약과 12개",
        detail: "Honey cookies · yakgwa",
        description: "조청과 참기름으로 지져낸 전통 약과. 차와 함께 드세요.",
        price: 16_000,
        picture: { kind: "cookies", color: "#a0522d", leaf: "#e0a458" },
      },
      {
        sku: "tea-cup",
        name: "분청 찻잔",
        detail: "Buncheong cup · 120ml",
        description: "흰 흙을 덧바른 분청사기 찻잔. 하나하나 무늬가 달라요.",
        price: 22_000,
        picture: { kind: "mug", color: "#c2b280", leaf: "#f7f3ea" },
      },
      {
        sku: "jujube-tea",
        name: "보은 대추차 20포",
        detail: "Jujube tea sticks",
        description: "보은 대추를 진하게 달였어요. 물에 타기만 하면 됩니다.",
        price: 21_000,
        picture: { kind: "fruit", color: "#9b2226", leaf: "#5a7d2a" },
      },
      {
        sku: "omija-tea",
        name: "문경 오미자청 500ml",
        detail: "Omija berry syrup",
        description: "다섯 가지 맛이 나는 오미자를 백일 동안 숙성했어요. 찬물에 타서 화채로도.",
        price: 24_000,
        picture: { kind: "jar", color: "#c1121f", leaf: "#3d5a3c" },
      },
      {
        sku: "matcha",
        name: "제주 말차 30g",
        detail: "Ceremonial matcha",
        description: "그늘에서 키운 찻잎을 돌맷돌에 갈았어요. 격불용 말차.",
        price: 28_000,
        picture: { kind: "tin", color: "#4f772d", leaf: "#ecf39e" },
      },
    ],
  },
};

export function brandById(id: string): Brand {
  const brand = BRANDS[id];
  if (!brand) throw new Error(`MALL_BRAND: no brand ${JSON.stringify(id)}; one of ${Object.keys(BRANDS).join(", ")}`);
  return brand;
}

export function productBySku(brand: Brand, sku: string): Product | undefined {
  return brand.products.find((product) => product.sku === sku);
}
