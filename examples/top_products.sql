-- Top products: the ten products that earned the most, with how often each was viewed, added to
-- a cart and bought, and how many purchases it got per 100 views. Ties go to the lower product id.
SELECT product_id,
       category,
       count(*) FILTER (WHERE event_type = 'view') AS views,
       count(*) FILTER (WHERE event_type = 'add_to_cart') AS carts,
       count(*) FILTER (WHERE event_type = 'purchase') AS purchases,
       sum(price) FILTER (WHERE event_type = 'purchase') AS revenue,
       round(100.0 * count(*) FILTER (WHERE event_type = 'purchase')
             / nullif(count(*) FILTER (WHERE event_type = 'view'), 0), 1) AS purchases_per_100_views
FROM user_events
GROUP BY product_id, category
HAVING count(*) FILTER (WHERE event_type = 'purchase') > 0
ORDER BY revenue DESC, product_id
LIMIT 10;
