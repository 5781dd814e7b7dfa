-- Conversion funnel view -> cart -> purchase: how many users viewed a product, how many of them
-- then added a product they had viewed to the cart, and how many of those then bought a product
-- they had carted that way. Each step follows one user's events on one product in time order, so
-- every step's users are among the previous step's. Rates are relative to the previous step
-- and to the viewers.
WITH viewed AS (
    SELECT user_id, product_id, min(event_time) AS at
    FROM user_events
    WHERE event_type = 'view'
    GROUP BY user_id, product_id
), carted AS (
    SELECT v.user_id, v.product_id, min(e.event_time) AS at
    FROM viewed v
    JOIN user_events e ON e.user_id = v.user_id AND e.product_id = v.product_id
                      AND e.event_type = 'add_to_cart' AND e.event_time > v.at
    GROUP BY v.user_id, v.product_id
), purchased AS (
    SELECT DISTINCT c.user_id
    FROM carted c
    JOIN user_events e ON e.user_id = c.user_id AND e.product_id = c.product_id
                      AND e.event_type = 'purchase' AND e.event_time > c.at
), steps (step, stage, users) AS (
    SELECT 1, 'view', count(DISTINCT user_id) FROM viewed
    UNION ALL
    SELECT 2, 'add_to_cart', count(DISTINCT user_id) FROM carted
    UNION ALL
    SELECT 3, 'purchase', count(*) FROM purchased
)
SELECT step, stage, users,
       round(100.0 * users / nullif(lag(users) OVER (ORDER BY step), 0), 1) AS pct_of_previous,
       round(100.0 * users / nullif(first_value(users) OVER (ORDER BY step), 0), 1) AS pct_of_viewers
FROM steps
ORDER BY step;
