"""A hand-made shop whose KPIs are known by construction (not a test module).

Three customers, one product (cost 4, price 10), four orders, three campaign
contacts, one incident, six web visits. The comments give each right answer.
"""

from __future__ import annotations

import pandas as pd

from crmkit.dataset.crmdata import CRMData
from crmkit.dataset.schema import TABLE_NAMES, conform, empty_table


def tiny_shop() -> CRMData:
    ts = pd.Timestamp
    customers = pd.DataFrame({
        "customer_id": [1, 2, 3, 4], "signup_date": ["2023-01-01"] * 4,
        "first_name": ["Ana", "Luis", "Eva", "Pau"], "last_name": ["A", "B", "C", "D"],
        "address": [None] * 4, "city": [None] * 4, "postal_code": [None] * 4,
        "country": [None] * 4,
        "email": ["a@x.es", "l@x.es", "e@x.es", None],
        "phone": [None] * 4,
        "birth_date": ["1990-01-10", None, "1985-02-20", None],
        "gender": [None] * 4, "education": [None] * 4, "acquisition_channel": [None] * 4,
        "acquisition_campaign_id": [None] * 4, "preferred_payment_method": [None] * 4,
        "segment": ["premium", "premium", "budget", "premium"],
        "email_consent": [True, True, False, False], "phone_consent": [False] * 4,
    })
    products = pd.DataFrame({"product_id": [1], "sku": ["P1"], "name": ["Champú"],
                             "department": ["hair care"], "category": ["shampoo"],
                             "subcategory": ["dry hair"], "brand": ["Bendita"],
                             "unit_cost": [4.0], "list_price": [10.0]})
    o = {
        # 1: customer 1, web, delivered, 2 x 10 at 10 % off, shipping 3.5, from campaign 1
        # 2: customer 1, web, returned, 1 x 10: refunded, carrier paid twice
        # 3: customer 2, web, cancelled: counts for nothing
        # 4: customer 2, store, delivered, 3 x 10, no carrier
        "order_id": [1, 2, 3, 4], "customer_id": [1, 1, 2, 2],
        "placed_at": [ts("2024-01-10 10:00"), ts("2024-01-20 21:00"),
                      ts("2024-02-03 12:00"), ts("2024-02-14 18:00")],
        "channel": ["web", "web", "web", "store"],
        "status": ["delivered", "returned", "cancelled", "delivered"],
        "paid_at": [None] * 4, "shipped_at": [None] * 4, "delivered_at": [None] * 4,
        "cancelled_at": [None] * 4, "returned_at": [None] * 4,
        "payment_method": ["card"] * 4, "shipping_cost": [3.5, 0.0, 3.5, 0.0],
        "discount_code": ["CAMP0001", None, None, None], "campaign_id": [1, None, None, None],
    }
    orders = pd.DataFrame(o)
    lines = pd.DataFrame({"order_id": [1, 2, 3, 4], "line_number": [1, 1, 1, 1],
                          "product_id": [1, 1, 1, 1], "quantity": [2, 1, 5, 3],
                          "unit_price": [10.0] * 4, "discount": [0.1, 0.0, 0.0, 0.0]})
    campaigns = pd.DataFrame({
        "campaign_id": [1], "name": ["Retention Jan 2024 (email)"], "channel": ["email"],
        "goal": ["retention"], "target_segment": ["premium"],
        "objective": ["Retention of premium customers by email"], "kpi": ["conversion_rate"],
        "target_value": [0.6], "start_date": ["2024-01-08"], "end_date": ["2024-01-21"],
        "budget": [1.0], "cost_per_contact": [0.5],
    })
    # customer 1 contacted and converted (order 1); customer 3 contacted (outside the
    # target, no consent needed to count the cost); customer 2 is the control group;
    # customer 4 has no e-mail, so is not in the audience.
    contacts = pd.DataFrame({
        "campaign_id": [1, 1], "customer_id": [1, 3],
        "sent_at": [ts("2024-01-08 09:00"), ts("2024-01-08 09:00")],
        "opened": [True, False], "clicked": [True, False],
        "converted_order_id": [1, None], "cost": [0.5, 0.5],
    })
    tickets = pd.DataFrame({
        "ticket_id": [1], "customer_id": [2], "order_id": [4], "product_id": [1],
        "category": ["defect"], "channel": ["phone"], "priority": ["normal"],
        "opened_at": [ts("2024-02-15 10:00")], "status": ["closed"],
        "closed_at": [ts("2024-02-16 10:00")],
    })
    # January: 4 visits by 3 visitors, 1 order, 2 carts; February: 2 visits, 1 order.
    sessions = pd.DataFrame({
        "session_id": [1, 2, 3, 4, 5, 6],
        "visitor_id": ["C-1", "C-1", "A-9", "A-8", "C-2", "A-7"],
        "customer_id": [1, 1, None, None, 2, None],
        "started_at": [ts("2024-01-10 09:50"), ts("2024-01-15 22:00"), ts("2024-01-16 10:00"),
                       ts("2024-01-17 11:00"), ts("2024-02-03 11:50"), ts("2024-02-05 20:00")],
        "traffic_source": ["email", "email", "organic", "organic", "organic", "social"],
        "device": ["mobile", "mobile", "desktop", "mobile", "desktop", "mobile"],
        "pages": [5, 3, 1, 4, 6, 2],
        "added_to_cart": [True, True, False, False, True, False],
        "converted_order_id": [1, None, None, None, 3, None],
    })
    tables = {"customers": customers, "products": products, "orders": orders,
              "order_lines": lines, "campaigns": campaigns, "campaign_contacts": contacts,
              "tickets": tickets, "web_sessions": sessions}
    tables = {k: conform(k, tables[k]) if k in tables else empty_table(k) for k in TABLE_NAMES}
    return CRMData(tables, {"profile": "tiny"}).validate()
