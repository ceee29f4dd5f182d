//! The example programme: a Russian service station's rules, written the way a shop
//! would write them. The demo, the docs and the tests start from it.

use super::Program;
use serde_json::json;

impl Program {
    /// A realistic example programme for a Russian service station.
    pub fn example() -> serde_json::Value {
        json!({
            "name": "Клуб автосервиса",
            "currency": "RUB",
            "timezone": "Europe/Moscow",
            "default_country": "RU",
            "locale": "ru-RU",
            "points": { "value": "1", "scale": 0 },
            "accrual": {
                "rate_percent": "5",
                "rate_by_kind": { "labor": "7", "part": "3" },
                "kinds": ["labor", "part", "goods"],
                "min_bill": "500",
                "on_promo_lines": false
            },
            "redemption": { "kinds": ["labor"], "cap_percent": "30", "min_bill": "1000" },
            "expiry_months": 12,
            "pending_days": 14,
            "hold_ttl_minutes": 30,
            "welcome_bonus": { "points": "300", "expiry_days": 90 },
            "birthday_bonus": { "points": "500", "days_before": 3, "days_after": 7 },
            "tiers": {
                "window_days": 365,
                "levels": [
                    { "code": "base", "name": "Базовый" },
                    { "code": "silver", "name": "Серебро", "min_spend": "30000", "min_visits": 2,
                      "rate_by_kind": { "labor": "8", "part": "4", "goods": "5" }, "discount_percent": "3" },
                    { "code": "gold", "name": "Золото", "min_spend": "80000", "min_visits": 4,
                      "rate_by_kind": { "labor": "10", "part": "5", "goods": "6" }, "discount_percent": "5",
                      "benefits": ["priority_service"] },
                    { "code": "platinum", "name": "Платина", "min_spend": "200000", "min_visits": 6,
                      "rate_by_kind": { "labor": "12", "part": "6", "goods": "7" }, "discount_percent": "7",
                      "benefits": ["priority_service", "exclusive_parts"] }
                ]
            },
            "agreements": [
                { "code": "taxi", "name": "Таксопарк", "discount_by_kind": { "labor": "15", "part": "5" },
                  "accrual": false, "redemption": false }
            ],
            "discounts": {
                "combination": "best",
                "max_percent": "20",
                "cumulative": [
                    { "min_total_spend": "50000", "percent": "2" },
                    { "min_total_spend": "150000", "percent": "4" }
                ],
                "vip": { "min_total_spend": "500000", "discount_percent": "10" }
            },
            "expiring_notice_days": 30,
            "feedback": { "bonus_points": "100", "bonus_kinds": ["review", "praise", "complaint"], "bonus_expiry_days": 90 },
            "reminders": {
                "window_days": 14,
                "services": [
                    { "kind": "oil_change", "name": "замена масла", "months": 12, "km": 10000,
                      "patterns": ["*замена масла*", "TO-*", "ТО-*"] },
                    { "kind": "to_2", "name": "ТО-2", "months": 24, "km": 30000,
                      "patterns": ["TO-2*", "ТО-2*"] },
                    { "kind": "brake_fluid", "name": "замена тормозной жидкости", "months": 24,
                      "patterns": ["*тормозн*жидк*", "BRAKE-FLUID*"] },
                    { "kind": "timing_belt", "name": "замена ремня ГРМ", "months": 60, "km": 60000,
                      "patterns": ["*ремн* грм*", "TB-*"] },
                    { "kind": "air_conditioning", "name": "обслуживание кондиционера", "months": 12,
                      "patterns": ["*кондиционер*", "AC-*"] }
                ],
                "service_days_before": 7,
                "points_expiring_days": 14,
                "birthday_days_before": 3,
                "recommendation_after_days": 30,
                "tyre_season": { "autumn": { "from": "10-01", "to": "11-15" },
                                 "spring": { "from": "03-20", "to": "04-30" } },
                "order_arrived": true,
                "quality_call": { "after_days_min": 2, "after_days_max": 3 },
                "lapsed": { "min_visits": 4, "min_spend": "50000", "factor": "1.5", "min_car_visits": 3 },
                "templates": {
                    "service_due": "{first_name}, для {car} подходит срок: {service} (до {due_on}). Запишитесь: {shop}.",
                    "points_expiring": "{first_name}, {expires_on} сгорят ваши баллы: {points}. Успейте потратить их у нас."
                }
            },
            "exclusive": [
                { "sku": "MOTUL-300V*", "min_tier": "gold" },
                { "category": "эксклюзив", "min_tier": "platinum" }
            ],
            "referral": {
                "min_first_visit": "3000", "referrer_points": "500", "referee_points": "300",
                "expiry_days": 180,
                "cashback": { "levels": ["3", "1"], "per_visit_max": "1000", "total_max": "10000",
                              "period_days": 365 }
            }
        })
    }
}
